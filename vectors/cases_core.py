"""Cases of the core lifecycle: timestamps and attributes, issuance, split and transfer, cancel and claim.

Every case runs on the standard cast (:data:`~gc_conformance.vectors.catalog.CAST`).
Production happens on 2024-03-01 (the epoch day), requests are dated the day after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gc_conformance.session import device_record
from gc_conformance.vectors.catalog import (
    ACCOUNTS,
    ALICE,
    BOB,
    CAROL,
    CAST,
    GHOST,
    ISSUER,
    METERS,
    SOLAR,
    STRANGER,
    WIND,
    add,
    cancel,
    case,
    claim,
    flag,
    issue,
    transfer,
)
from gc_conformance.vectors.tape import Tape

# ====================================================================== flags

BAD_STAMP = flag(
    "MalformedTimestamp",
    "A production stamp that is not strict UTC YYYY-MM-DDThh:mm:ssZ (TIME-001): missing Z, an "
    "offset, fractional seconds, an impossible time or date, another layout.",
    "The registry accepts a stamp the standard's format excludes, so two registries may read the "
    "same certificate's hour differently.",
)
D15_STAMP = flag(
    "DigestD15Example",
    "The digest's worked example (D15): the standard's own example end stamp 2023-10-03T00:14:95Z "
    "has 95 seconds and must be refused. Written by hand, not taken from the model.",
    "The registry accepts an impossible time, the typo the standard's text carries.",
)
INTERVAL = flag(
    "IntervalLength",
    "Production intervals: at most one hour (TIME-002), start strictly before end (TIME-003), "
    "shorter intervals accepted as given (TIME-004), ended before it is reported (PROD-006).",
    "The registry issues GCs for an interval the standard does not allow, or refuses one it does.",
)
DATES = flag(
    "DateStamp",
    "Calendar dates (device start of operation) are strict YYYY-MM-DD (TIME-006).",
    "The registry records a date the format excludes, or refuses a real one (a leap day).",
)
VALID = flag(
    "ValidRequest",
    "A request the standard allows; the case pins its effect on the state (IT-002).",
    "The registry refuses an allowed request, or carries it out with another effect.",
)
ENERGY = flag(
    "EnergyValue",
    "Production volumes are finite, non-negative Wh (PROD-004), made whole by the declared "
    "rounding (ATTR-004); 0 Wh issues nothing (SPLIT-004).",
    "The registry issues for a malformed volume, or issues a different number of certificates.",
)
DOUBLE_ISSUANCE = flag(
    "DoubleIssuance",
    "D4 risk 1: a second issuance for production already issued (DC-001).",
    "The same Wh is certified twice: double counting.",
)
REGISTRATION = flag(
    "Registration",
    "Accounts and devices: unique IDs, complete D6 data, issued by the GC Issuer only "
    "(ROLE-003, DEV-001..004, AUTH-007).",
    "The registry lets a record be duplicated or created by a party without the authority.",
)
PRODUCTION_DATA = flag(
    "ProductionData",
    "Production data must come from the device's registered meter, with its gross/net "
    "indicator, for a registered device, and the issuance goes to the device's account "
    "(PROD-001..003, PROD-007).",
    "The registry certifies readings it cannot attribute to the registered device.",
)
AUTHORITY = flag(
    "Authority",
    "D2 roles: only the holder acts on its bundles, only the GC Issuer issues and withdraws "
    "(AUTH-001..008).",
    "A party without the authority moved, used or created certificates.",
)
CAPACITY = flag(
    "Capacity",
    "Reported energy above capacity x interval length (PROD-005, a named policy).",
    "The registry certifies more energy than the device can produce, or refuses what it can.",
)
ISSUER_CREATED = flag(
    "IssuerCreated",
    "Issuer-created bundles: the registry validates the asserted range, quantity, account and "
    "production (ISS-001..006).",
    "The registry records an asserted bundle the standard requires it to refuse, or the reverse.",
)
SPLIT = flag(
    "PartialOperation",
    "A partial transfer, cancellation, reservation or withdrawal splits the bundle; the "
    "children partition the parent's range (SPLIT-001, SPLIT-002, DC-007).",
    "Certificates are created, lost or held twice when a bundle is split.",
)
QUANTITY = flag(
    "QuantityValue",
    "Quantities are positive whole numbers, never more than the bundle holds (QTY-001, QTY-002).",
    "The registry acts on a malformed or excessive quantity, e.g. treating 0 as 'everything'.",
)
UNKNOWN_REF = flag(
    "UnknownReference",
    "A request naming a bundle or account that does not exist (IT-004, XFER-005); the case's "
    "symbol X.. is bound to no ID the registry gave.",
    "The registry answers 'accepted' for a request that did nothing, or acts on something else.",
)
ATOMIC = flag(
    "Atomicity",
    "A refused request must change nothing (IT-001); the expected state is the state before it.",
    "The registry's state changed although the request was refused.",
)
ENDED = flag(
    "EndedBundle",
    "Certificates cancelled, claimed, withdrawn or split can no longer be moved or reused "
    "(XFER-003, DC-004, DC-008, WDR-001, WDR-002).",
    "Used or retired certificates come back into circulation: double counting.",
)
HOLDING = flag(
    "Reservation",
    "Reserve, lock and release (RES-001, RES-002, AUTH-004).",
    "Reserved certificates move, or a release makes active what was never reserved.",
)
WITHDRAWAL = flag(
    "Withdrawal",
    "Withdrawal by the GC Issuer is final (WDR-001, AUTH-006).",
    "Withdrawn certificates are usable again, or a holder withdraws.",
)
QUERY = flag(
    "Query",
    "A query returns exactly the matching current bundles, and only the holder's own (IT-003, "
    "AUTH-008).",
    "The registry shows the wrong bundles, or another holder's.",
)
CANCEL = flag(
    "Cancellation",
    "Cancellation records a beneficiary and ends tradeability (CANC-001..003, AUTH-002).",
    "Certificates are cancelled without a beneficiary, by the wrong party, or stay tradeable.",
)
CLAIM = flag(
    "Claim",
    "Claims: only cancelled certificates, only by their holder, only for the named beneficiary, "
    "at most once (CLAIM-001, CLAIM-002, DC-005, DC-006, AUTH-003).",
    "The same cancelled energy supports two claims, or a claim for someone else: double use.",
)
HAND = flag(
    "HandComputed",
    "The expectation is written by hand in the generator from the standard's rule; the "
    "generator checks that the reference model agrees, so the case tests the model too.",
    "The registry disagrees with a value computed by hand from the standard.",
)

TIMES, ISS, SPL, CC = "timestamps", "issuance", "split_transfer", "cancel_claim"


def production(
    t: Tape,
    start: str,
    end: str,
    wh: Any = "100",
    device: str = WIND,
    meter: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return t.send(
        "submit_production",
        ISSUER,
        device_id=device,
        meter_id=METERS.get(device, "M-NONE") if meter is None else meter,
        start=start,
        end=end,
        energy_wh=wh,
        **extra,
    )


# ====================================================================== timestamps

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


# ====================================================================== issuance


@case(
    ISS,
    CAST,
    "production-issues-wh",
    "1000 Wh of production issue 1000 active certificates into the device's account",
    flags=[VALID, HAND],
    requirements=["PROD-007", "ATTR-003"],
)
def _issue_basic(t: Tape) -> None:
    issue(t, 0, "1000")
    t.hand_total(1000, account_id="ACC-ALICE", certificate_bundle_status="ACTIVE")


@case(
    ISS,
    CAST,
    "production-zero",
    "0 Wh is accepted and issues nothing",
    flags=[ENERGY, VALID, HAND],
    requirements=["SPLIT-004"],
)
def _issue_zero(t: Tape) -> None:
    issue(t, 0, "0")
    t.hand_total(0)


@case(
    ISS,
    CAST,
    "production-json-number",
    "energy given as a JSON number",
    flags=[ENERGY, VALID],
    requirements=["PROD-004", "PROD-007"],
)
def _issue_number(t: Tape) -> None:
    start, end = t.hour(1)
    production(t, start, end, 250)


for _wh, _label in (
    ("2.4", "fraction-below-half"),
    ("1000.0", "decimal-whole"),
    ("7.49", "fraction-7-49"),
):

    def _fraction(t: Tape, wh: str = _wh) -> None:
        issue(t, 3, wh)

    add(
        ISS,
        CAST,
        f"production-{_label}",
        f"{_wh} Wh becomes whole Wh (the same under rounding to nearest and down)",
        _fraction,
        flags=[ENERGY, VALID],
        requirements=["ATTR-004", "ATTR-003"],
    )

for _wh, _label in (
    ("-1", "negative"),
    ("NaN", "nan"),
    ("abc", "text"),
    ("", "empty"),
    ("1e400x", "garbage-exponent"),
    ("Infinity", "infinity"),
    ("-0.5", "negative-fraction"),
    ("1,5", "decimal-comma"),
):

    def _bad_energy(t: Tape, wh: str = _wh) -> None:
        issue(t, 4, wh)

    add(
        ISS,
        CAST,
        f"energy-{_label}",
        f"energy {_wh!r} is not a finite, non-negative number of Wh",
        _bad_energy,
        flags=[ENERGY],
        requirements=["PROD-004", "IT-004"],
    )


@case(
    ISS,
    CAST,
    "resubmission",
    "the same reading submitted twice: the second is refused",
    flags=[DOUBLE_ISSUANCE, ATOMIC],
    requirements=["DC-001"],
)
def _resubmit(t: Tape) -> None:
    issue(t, 5, "300")
    issue(t, 5, "300")


@case(
    ISS,
    CAST,
    "overlapping-interval",
    "a 30-minute reading inside an hour already issued is refused",
    flags=[DOUBLE_ISSUANCE],
    requirements=["DC-001"],
)
def _overlap(t: Tape) -> None:
    issue(t, 5, "300")
    production(t, "2024-03-01T05:30:00Z", "2024-03-01T06:00:00Z", "10")


@case(
    ISS,
    CAST,
    "adjacent-hours",
    "consecutive hours are separate production and both issue",
    flags=[VALID],
    requirements=["DC-001", "PROD-007"],
)
def _adjacent(t: Tape) -> None:
    issue(t, 5, "300")
    issue(t, 6, "200")


@case(
    ISS,
    CAST,
    "two-devices-same-hour",
    "two devices issue for the same hour",
    flags=[VALID],
    requirements=["PROD-007"],
)
def _two_devices(t: Tape) -> None:
    issue(t, 7, "300")
    issue(t, 7, "300", device=SOLAR)


@case(
    ISS,
    CAST,
    "unknown-device",
    "production for a device never registered",
    flags=[PRODUCTION_DATA],
    requirements=["PROD-002"],
)
def _unknown_device(t: Tape) -> None:
    start, end = t.hour(1)
    production(t, start, end, "10", device="DEV-NONE", meter="M-NONE")


@case(
    ISS,
    CAST,
    "meter-mismatch",
    "production read from another device's meter",
    flags=[PRODUCTION_DATA],
    requirements=["PROD-001"],
)
def _meter(t: Tape) -> None:
    start, end = t.hour(1)
    production(t, start, end, "10", meter="M-SOLAR")


@case(
    ISS,
    CAST,
    "gross-net-mismatch",
    "a GROSS reading for a meter registered NET",
    flags=[PRODUCTION_DATA],
    requirements=["PROD-003"],
)
def _gross(t: Tape) -> None:
    start, end = t.hour(1)
    production(t, start, end, "10", gross_or_net="GROSS")


for _actor in (ALICE, STRANGER):

    def _by(t: Tape, actor: str = _actor) -> None:
        start, end = t.hour(1)
        t.send(
            "submit_production",
            actor,
            device_id=WIND,
            meter_id="M-WIND",
            start=start,
            end=end,
            energy_wh="10",
        )

    add(
        ISS,
        CAST,
        f"production-by-{_actor}",
        f"{_actor} (not the GC Issuer) submits production",
        _by,
        flags=[AUTHORITY],
        requirements=["AUTH-005"],
    )

for _wh, _ok in (("1000", True), ("1001", False)):

    def _solar(t: Tape, wh: str = _wh) -> None:
        issue(t, 12, wh, device=SOLAR)

    add(
        ISS,
        CAST,
        f"solar-capacity-{_wh}",
        f"{_wh} Wh in one hour from a 1000 W device",
        _solar,
        flags=[CAPACITY] if not _ok else [CAPACITY, VALID],
        requirements=["PROD-005"],
    )


@case(
    ISS,
    CAST,
    "solar-capacity-quarter-hour",
    "251 Wh in 15 minutes from a 1000 W device",
    flags=[CAPACITY],
    requirements=["PROD-005"],
)
def _quarter(t: Tape) -> None:
    start, end = t.hour(12, minutes=15)
    production(t, start, end, "251", device=SOLAR)


@case(
    ISS,
    CAST,
    "duplicate-account",
    "opening ACC-BOB a second time",
    flags=[REGISTRATION, ATOMIC],
    requirements=["ROLE-003"],
)
def _dup_account(t: Tape) -> None:
    t.send(
        "open_account",
        ISSUER,
        account={"account_id": "ACC-BOB", "holder_id": "dave", "account_name": "dave"},
    )


@case(
    ISS,
    CAST,
    "account-by-holder",
    "a holder opens an account",
    flags=[REGISTRATION, AUTHORITY],
    requirements=["AUTH-007"],
)
def _account_holder(t: Tape) -> None:
    t.send(
        "open_account",
        ALICE,
        account={"account_id": "ACC-DAVE", "holder_id": "dave", "account_name": "dave"},
    )


@case(
    ISS,
    CAST,
    "new-account",
    "the issuer opens a fourth account",
    flags=[REGISTRATION, VALID],
    requirements=["AUTH-007"],
)
def _account_new(t: Tape) -> None:
    t.send(
        "open_account",
        ISSUER,
        account={"account_id": "ACC-DAVE", "holder_id": "dave", "account_name": "dave"},
    )


def _hydro(
    account: str = "ACC-BOB", meter: str = "M-HYDRO", device: str = "DEV-HYDRO"
) -> dict[str, Any]:
    return device_record(device, meter, account, 100_000, "hydro")


for _label, _record, _actor, _reqs in (
    ("device-new", _hydro(), ISSUER, ["DEV-001"]),
    ("device-duplicate-id", _hydro(device=WIND), ISSUER, ["DEV-002"]),
    ("device-duplicate-meter", _hydro(meter="M-WIND"), ISSUER, ["DEV-004"]),
    ("device-unknown-account", _hydro(account="ACC-NONE"), ISSUER, ["DEV-003"]),
    ("device-by-holder", _hydro(), BOB, ["AUTH-007"]),
    ("device-zero-capacity", {**_hydro(), "capacity_w": 0}, ISSUER, ["DEV-001"]),
    ("device-no-name", {**_hydro(), "device_name": ""}, ISSUER, ["DEV-001"]),
):

    def _device(t: Tape, record: dict[str, Any] = _record, actor: str = _actor) -> None:
        t.send("register_device", actor, device=record)

    add(
        ISS,
        CAST,
        _label,
        f"register_device: {_label.replace('-', ' ')}",
        _device,
        flags=[REGISTRATION, VALID] if _label == "device-new" else [REGISTRATION],
        requirements=_reqs,
    )


def _asserted(
    t: Tape, hour: int, first: int, last: int, quantity: int, wh: str, account: str = "ACC-ALICE"
) -> dict[str, Any]:
    start, end = t.hour(hour)
    return t.send(
        "issue_bundle",
        ISSUER,
        device_id=WIND,
        account_id=account,
        start=start,
        end=end,
        range_start=first,
        range_end=last,
        quantity=quantity,
        energy_wh=wh,
    )


for _label, _args, _reqs in (
    ("issuer-created-valid", (1, 1, 100, 100, "100"), ["ISS-001"]),
    ("issuer-created-range-mismatch", (1, 1, 100, 99, "100"), ["ISS-002"]),
    ("issuer-created-exceeds-production", (1, 1, 101, 101, "100"), ["ISS-004"]),
    ("issuer-created-zero-start", (1, 0, 99, 100, "100"), ["ISS-006"]),
    ("issuer-created-negative-start", (1, -5, 94, 100, "100"), ["ISS-006"]),
):

    def _issuer_created(t: Tape, args: tuple[Any, ...] = _args) -> None:
        _asserted(t, *args)

    add(
        ISS,
        CAST,
        _label,
        f"issue_bundle: {_label.replace('-', ' ')}",
        _issuer_created,
        flags=[ISSUER_CREATED, VALID] if _label.endswith("valid") else [ISSUER_CREATED],
        requirements=_reqs,
    )


@case(
    ISS,
    CAST,
    "issuer-created-wrong-account",
    "an asserted bundle into bob's account (the device issues to alice)",
    flags=[ISSUER_CREATED],
    requirements=["ISS-005"],
)
def _ic_account(t: Tape) -> None:
    _asserted(t, 1, 1, 100, 100, "100", account="ACC-BOB")


@case(
    ISS,
    CAST,
    "issuer-created-overlap-tail",
    "a second bundle whose first ID is free but whose range overlaps the first bundle",
    flags=[ISSUER_CREATED, DOUBLE_ISSUANCE],
    requirements=["ISS-003", "DC-003"],
)
def _ic_overlap(t: Tape) -> None:
    _asserted(t, 1, 101, 200, 100, "100")
    _asserted(t, 2, 50, 149, 100, "100")


@case(
    ISS,
    CAST,
    "issuer-created-overlap-same",
    "the same range asserted for another hour",
    flags=[ISSUER_CREATED, DOUBLE_ISSUANCE],
    requirements=["ISS-003"],
)
def _ic_same(t: Tape) -> None:
    _asserted(t, 1, 1, 100, 100, "100")
    _asserted(t, 2, 1, 100, 100, "100")


@case(
    ISS,
    CAST,
    "issuer-created-withdrawn-ids",
    "IDs of withdrawn certificates are asserted again",
    flags=[ISSUER_CREATED, WITHDRAWAL],
    requirements=["ISS-003", "ID-002"],
)
def _ic_withdrawn(t: Tape) -> None:
    bundle = _asserted(t, 1, 1, 100, 100, "100").get("bundle_id")
    t.send("withdraw", ISSUER, bundle_id=bundle, reason="metering error")
    _asserted(t, 2, 1, 100, 100, "100")


@case(
    ISS,
    CAST,
    "withdrawn-ids-not-reused",
    "after a withdrawal, new production gets fresh certificate IDs",
    flags=[WITHDRAWAL, VALID],
    requirements=["ID-002", "DC-003"],
)
def _fresh_ids(t: Tape) -> None:
    bundle = issue(t, 1, "100")
    t.send("withdraw", ISSUER, bundle_id=bundle, reason="metering error")
    issue(t, 2, "100")


# ====================================================================== split and transfer


@case(
    SPL,
    CAST,
    "transfer-whole",
    "alice transfers a whole bundle to bob",
    flags=[VALID],
    requirements=["XFER-001", "DC-002"],
)
def _whole(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB)


@case(
    SPL,
    CAST,
    "transfer-partial",
    "alice transfers 400 of 1000 to bob: the bundle splits",
    flags=[VALID, SPLIT, HAND],
    requirements=["SPLIT-001", "SPLIT-002", "DC-007"],
)
def _partial(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB, 400)
    t.hand_total(400, account_id="ACC-BOB")
    t.hand_total(600, account_id="ACC-ALICE")


@case(
    SPL,
    CAST,
    "transfer-partial-all",
    "a partial transfer of exactly the bundle's quantity",
    flags=[VALID, SPLIT],
    requirements=["XFER-001", "QTY-002"],
)
def _partial_all(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB, 1000)


@case(
    SPL,
    CAST,
    "transfer-one-certificate",
    "a transfer of a single certificate",
    flags=[VALID, SPLIT],
    requirements=["SPLIT-001"],
)
def _one(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB, 1)


@case(
    SPL,
    CAST,
    "transfer-chain",
    "alice to bob to carol: certificates change hands any number of times",
    flags=[VALID],
    requirements=["XFER-002", "ID-001"],
)
def _chain(t: Tape) -> None:
    first = transfer(t, ALICE, issue(t), BOB)
    transfer(t, BOB, first.get("bundle_id"), CAROL)


@case(
    SPL,
    CAST,
    "transfer-back",
    "bob transfers the certificates back to alice",
    flags=[VALID],
    requirements=["XFER-002"],
)
def _back(t: Tape) -> None:
    first = transfer(t, ALICE, issue(t), BOB, 300)
    transfer(t, BOB, first.get("bundle_id"), ALICE)


@case(
    SPL,
    CAST,
    "transfer-remainder",
    "after a partial transfer, alice transfers the remainder to carol",
    flags=[VALID, SPLIT],
    requirements=["SPLIT-001", "DC-007"],
)
def _remainder(t: Tape) -> None:
    first = transfer(t, ALICE, issue(t), BOB, 300)
    transfer(t, ALICE, first.get("remainder_id"), CAROL, 200)


@case(
    SPL,
    CAST,
    "transfer-split-parent",
    "the bundle that was split is named again",
    flags=[ENDED, UNKNOWN_REF],
    requirements=["DC-008"],
)
def _parent(t: Tape) -> None:
    bundle = issue(t)
    transfer(t, ALICE, bundle, BOB, 300)
    transfer(t, ALICE, bundle, CAROL)


for _quantity, _label in (
    (0, "zero"),
    (-5, "negative"),
    (2.5, "fraction"),
    ("10", "string"),
    (True, "boolean"),
    (1001, "too-many"),
):

    def _bad_quantity(t: Tape, quantity: Any = _quantity) -> None:
        transfer(t, ALICE, issue(t), BOB, quantity)

    add(
        SPL,
        CAST,
        f"transfer-quantity-{_label}",
        f"transfer quantity {_quantity!r} of a 1000-certificate bundle",
        _bad_quantity,
        flags=[QUANTITY, ATOMIC],
        requirements=["QTY-002"] if _label == "too-many" else ["QTY-001"],
    )

for _label, _actor, _to, _reqs, _flags in (
    ("transfer-by-non-owner", BOB, CAROL, ["AUTH-001"], [AUTHORITY, ATOMIC]),
    ("transfer-by-issuer", ISSUER, BOB, ["AUTH-001"], [AUTHORITY]),
    ("transfer-by-stranger", STRANGER, BOB, ["AUTH-001"], [AUTHORITY]),
    ("transfer-same-account", ALICE, ALICE, ["XFER-004"], [ATOMIC]),
    ("transfer-unknown-account", ALICE, "ACC-NONE", ["XFER-005"], [UNKNOWN_REF]),
):

    def _refused_transfer(t: Tape, actor: str = _actor, to: str = _to) -> None:
        transfer(t, actor, issue(t), to)

    add(
        SPL,
        CAST,
        _label,
        _label.replace("-", " "),
        _refused_transfer,
        flags=_flags,
        requirements=_reqs,
    )

    def _refused_partial(t: Tape, actor: str = _actor, to: str = _to) -> None:
        transfer(t, actor, issue(t), to, 250)

    add(
        SPL,
        CAST,
        _label + "-partial",
        _label.replace("-", " ") + ", partial: refused without splitting the bundle",
        _refused_partial,
        flags=[*_flags, SPLIT, ATOMIC] if ATOMIC not in _flags else [*_flags, SPLIT],
        requirements=[*_reqs, "IT-001"],
    )


@case(
    SPL,
    CAST,
    "transfer-unknown-bundle",
    "a transfer naming a bundle the registry never issued",
    flags=[UNKNOWN_REF],
    requirements=["IT-004"],
)
def _ghost(t: Tape) -> None:
    issue(t)
    transfer(t, ALICE, GHOST, BOB)


@case(
    SPL,
    CAST,
    "reserve-whole",
    "alice reserves her bundle",
    flags=[HOLDING, VALID],
    requirements=["RES-001"],
)
def _reserve(t: Tape) -> None:
    t.send("reserve", ALICE, bundle_id=issue(t))


@case(
    SPL,
    CAST,
    "reserve-partial",
    "alice reserves 100 of 1000",
    flags=[HOLDING, SPLIT, VALID],
    requirements=["RES-001", "SPLIT-001"],
)
def _reserve_partial(t: Tape) -> None:
    t.send("reserve", ALICE, bundle_id=issue(t), quantity=100)


@case(
    SPL,
    CAST,
    "lock-by-holder",
    "the holder locks its own bundle",
    flags=[HOLDING, VALID],
    requirements=["RES-001"],
)
def _lock(t: Tape) -> None:
    t.send("reserve", ALICE, bundle_id=issue(t), kind="LOCKED")


# No case for the GC Issuer locking a holder's bundle: the standard is silent on it (the
# reference allows it; AUTH-004's note), so neither answer may be a vector's expectation.


@case(
    SPL,
    CAST,
    "reserve-by-issuer",
    "the GC Issuer may lock, not reserve",
    flags=[HOLDING, AUTHORITY],
    requirements=["AUTH-004"],
)
def _reserve_issuer(t: Tape) -> None:
    t.send("reserve", ISSUER, bundle_id=issue(t))


@case(
    SPL,
    CAST,
    "reserve-by-non-owner",
    "bob reserves alice's bundle",
    flags=[HOLDING, AUTHORITY],
    requirements=["AUTH-004"],
)
def _reserve_other(t: Tape) -> None:
    t.send("reserve", BOB, bundle_id=issue(t))


for _action, _label in (
    ("transfer", "transfer"),
    ("cancel", "cancel"),
    ("reserve", "reserve-again"),
):

    def _after_reserve(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        t.send("reserve", ALICE, bundle_id=bundle)
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "cancel":
            cancel(t, ALICE, bundle)
        else:
            t.send("reserve", ALICE, bundle_id=bundle)

    add(
        SPL,
        CAST,
        f"reserved-{_label}",
        f"{_action} of a reserved bundle",
        _after_reserve,
        flags=[HOLDING],
        requirements=["RES-001"],
    )


@case(
    SPL,
    CAST,
    "release-reserved",
    "releasing a reserved bundle makes it active",
    flags=[HOLDING, VALID],
    requirements=["RES-002"],
)
def _release(t: Tape) -> None:
    bundle = issue(t)
    t.send("reserve", ALICE, bundle_id=bundle)
    t.send("release", ALICE, bundle_id=bundle)


@case(
    SPL,
    CAST,
    "release-then-transfer",
    "a released bundle can be transferred",
    flags=[HOLDING, VALID],
    requirements=["RES-002", "XFER-002"],
)
def _release_transfer(t: Tape) -> None:
    bundle = issue(t)
    t.send("reserve", ALICE, bundle_id=bundle)
    t.send("release", ALICE, bundle_id=bundle)
    transfer(t, ALICE, bundle, BOB)


@case(
    SPL,
    CAST,
    "release-active",
    "releasing a bundle that is not reserved",
    flags=[HOLDING],
    requirements=["RES-002"],
)
def _release_active(t: Tape) -> None:
    t.send("release", ALICE, bundle_id=issue(t))


@case(
    SPL,
    CAST,
    "release-by-non-owner",
    "bob releases alice's reservation",
    flags=[HOLDING, AUTHORITY],
    requirements=["AUTH-004"],
)
def _release_other(t: Tape) -> None:
    bundle = issue(t)
    t.send("reserve", ALICE, bundle_id=bundle)
    t.send("release", BOB, bundle_id=bundle)


@case(
    SPL,
    CAST,
    "withdraw-whole",
    "the GC Issuer withdraws a bundle",
    flags=[WITHDRAWAL, VALID],
    requirements=["WDR-001"],
)
def _withdraw(t: Tape) -> None:
    t.send("withdraw", ISSUER, bundle_id=issue(t), reason="metering error")


@case(
    SPL,
    CAST,
    "withdraw-partial",
    "the GC Issuer withdraws 250 of 1000",
    flags=[WITHDRAWAL, SPLIT, VALID],
    requirements=["WDR-001", "SPLIT-001"],
)
def _withdraw_partial(t: Tape) -> None:
    t.send("withdraw", ISSUER, bundle_id=issue(t), reason="metering error", quantity=250)


@case(
    SPL,
    CAST,
    "withdraw-by-holder",
    "a holder withdraws its own bundle",
    flags=[WITHDRAWAL, AUTHORITY],
    requirements=["AUTH-006"],
)
def _withdraw_holder(t: Tape) -> None:
    t.send("withdraw", ALICE, bundle_id=issue(t), reason="mine")


for _action in ("transfer", "withdraw", "reserve", "cancel"):

    def _after_withdraw(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        t.send("withdraw", ISSUER, bundle_id=bundle, reason="metering error")
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "withdraw":
            t.send("withdraw", ISSUER, bundle_id=bundle, reason="again")
        elif action == "reserve":
            t.send("reserve", ALICE, bundle_id=bundle)
        else:
            cancel(t, ALICE, bundle)

    add(
        SPL,
        CAST,
        f"withdrawn-{_action}",
        f"{_action} of a withdrawn bundle",
        _after_withdraw,
        flags=[WITHDRAWAL, ENDED],
        requirements=["WDR-001"],
    )


def _two_holders(t: Tape) -> None:
    transfer(t, ALICE, issue(t, 0, "1000"), BOB, 300)
    issue(t, 1, "50", device=SOLAR)


for _label, _actor, _fields, _reqs in (
    ("query-own-account", ALICE, {"account_id": "ACC-ALICE"}, ["IT-003"]),
    ("query-other-account", ALICE, {"account_id": "ACC-BOB"}, ["AUTH-008"]),
    ("query-by-device", BOB, {"device_id": WIND}, ["IT-003", "AUTH-008"]),
    ("query-by-status", ALICE, {"status": "ACTIVE"}, ["IT-003"]),
    ("query-by-source", ALICE, {"energy_source": "solar"}, ["IT-003"]),
    ("query-by-issuer", ISSUER, {}, ["IT-003"]),
):

    def _query(t: Tape, actor: str = _actor, fields: dict[str, Any] = _fields) -> None:
        _two_holders(t)
        t.send("query", actor, **fields)

    add(
        SPL,
        CAST,
        _label,
        f"query {_fields or 'everything'} by {_actor}",
        _query,
        flags=[QUERY],
        requirements=_reqs,
    )


# ====================================================================== cancel and claim


@case(
    CC,
    CAST,
    "cancel-whole",
    "alice cancels a bundle for Acme",
    flags=[CANCEL, VALID],
    requirements=["CANC-001"],
)
def _cancel(t: Tape) -> None:
    cancel(t, ALICE, issue(t))


@case(
    CC,
    CAST,
    "cancel-partial",
    "alice cancels 600 of 1000 for Acme",
    flags=[CANCEL, SPLIT, VALID, HAND],
    requirements=["CANC-001", "SPLIT-001"],
)
def _cancel_partial(t: Tape) -> None:
    cancel(t, ALICE, issue(t), quantity=600)
    t.hand_total(600, certificate_bundle_status="CANCELLED")
    t.hand_total(400, certificate_bundle_status="ACTIVE")


@case(
    CC,
    CAST,
    "cancel-after-transfer",
    "bob cancels what alice transferred to him",
    flags=[CANCEL, VALID],
    requirements=["CANC-001", "AUTH-002"],
)
def _cancel_transferred(t: Tape) -> None:
    moved = transfer(t, ALICE, issue(t), BOB, 500)
    cancel(t, BOB, moved.get("bundle_id"), "Bob Industries")


@case(
    CC,
    CAST,
    "cancel-no-beneficiary",
    "a cancellation with an empty beneficiary",
    flags=[CANCEL],
    requirements=["CANC-002"],
)
def _cancel_empty(t: Tape) -> None:
    cancel(t, ALICE, issue(t), "")


@case(
    CC,
    CAST,
    "cancel-no-beneficiary-partial",
    "a partial cancellation with an empty beneficiary",
    flags=[CANCEL, ATOMIC],
    requirements=["CANC-002", "IT-001"],
)
def _cancel_empty_partial(t: Tape) -> None:
    cancel(t, ALICE, issue(t), "", quantity=10)


@case(
    CC,
    CAST,
    "cancel-by-non-owner",
    "bob cancels alice's bundle",
    flags=[CANCEL, AUTHORITY],
    requirements=["AUTH-002"],
)
def _cancel_other(t: Tape) -> None:
    cancel(t, BOB, issue(t))


@case(
    CC,
    CAST,
    "cancel-twice",
    "the cancelled bundle is cancelled again",
    flags=[CANCEL, ENDED],
    requirements=["DC-004"],
)
def _cancel_twice(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    cancel(t, ALICE, bundle, "Other Corp")


@case(
    CC,
    CAST,
    "cancel-for-storage-purpose",
    "a plain cancellation with purpose STORAGE_CHARGE",
    flags=[CANCEL],
    requirements=["CANC-003"],
)
def _cancel_storage(t: Tape) -> None:
    cancel(t, ALICE, issue(t), purpose="STORAGE_CHARGE")


@case(
    CC,
    CAST,
    "cancel-quantity-too-many",
    "cancel 1001 of 1000",
    flags=[CANCEL, QUANTITY],
    requirements=["QTY-002"],
)
def _cancel_many(t: Tape) -> None:
    cancel(t, ALICE, issue(t), quantity=1001)


@case(
    CC,
    CAST,
    "cancel-quantity-zero",
    "cancel 0 certificates",
    flags=[CANCEL, QUANTITY],
    requirements=["QTY-001"],
)
def _cancel_zero(t: Tape) -> None:
    cancel(t, ALICE, issue(t), quantity=0)


@case(
    CC,
    CAST,
    "cancel-with-consumption-period",
    "a cancellation naming a consumption period inside the validity",
    flags=[CANCEL, VALID],
    requirements=["VAL-009", "CANC-001"],
    profiles=("expiry",),
)
def _cancel_period(t: Tape) -> None:
    cancel(
        t,
        ALICE,
        issue(t),
        consumption_start="2024-03-01T00:00:00Z",
        consumption_end="2024-03-01T01:00:00Z",
    )


@case(
    CC,
    CAST,
    "cancel-consumption-next-year",
    "a cancellation for consumption in the following year",
    flags=[CANCEL],
    requirements=["VAL-009"],
    profiles=("expiry",),
)
def _cancel_late(t: Tape) -> None:
    cancel(
        t,
        ALICE,
        issue(t),
        consumption_start="2025-06-01T00:00:00Z",
        consumption_end="2025-06-01T01:00:00Z",
    )


for _action in ("transfer", "reserve", "withdraw", "release"):

    def _after_cancel(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        cancel(t, ALICE, bundle)
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "withdraw":
            t.send("withdraw", ISSUER, bundle_id=bundle, reason="late")
        else:
            t.send(action, ALICE, bundle_id=bundle)

    add(
        CC,
        CAST,
        f"cancelled-{_action}",
        f"{_action} of a cancelled bundle",
        _after_cancel,
        flags=[ENDED],
        requirements={
            "transfer": ["XFER-003"],
            "withdraw": ["WDR-002"],
            "reserve": ["RES-001", "DC-004"],
            "release": ["RES-002"],
        }[_action],
    )


@case(
    CC,
    CAST,
    "claim-whole",
    "alice claims her cancelled bundle for Acme",
    flags=[CLAIM, VALID],
    requirements=["CLAIM-001"],
)
def _claim(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)


@case(
    CC,
    CAST,
    "claim-partial",
    "a claim for 200 of 1000 cancelled",
    flags=[CLAIM, SPLIT, VALID],
    requirements=["CLAIM-002"],
)
def _claim_partial(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle, quantity=200)


@case(
    CC,
    CAST,
    "claim-after-partial-cancel",
    "claiming the cancelled part of a partial cancellation",
    flags=[CLAIM, SPLIT, VALID],
    requirements=["CLAIM-001", "SPLIT-001"],
)
def _claim_part(t: Tape) -> None:
    cancelled = cancel(t, ALICE, issue(t), quantity=700)
    claim(t, ALICE, cancelled.get("bundle_id"))


@case(
    CC,
    CAST,
    "claim-active",
    "a claim on active certificates",
    flags=[CLAIM],
    requirements=["CLAIM-001"],
)
def _claim_active(t: Tape) -> None:
    claim(t, ALICE, issue(t))


@case(
    CC,
    CAST,
    "claim-other-claimant",
    "a claim naming someone other than the beneficiary",
    flags=[CLAIM],
    requirements=["DC-006"],
)
def _claim_other(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle, "Acme")
    claim(t, ALICE, bundle, "Other Corp")


@case(
    CC,
    CAST,
    "claim-by-non-holder",
    "bob claims alice's cancelled bundle",
    flags=[CLAIM, AUTHORITY],
    requirements=["AUTH-003"],
)
def _claim_holder(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, BOB, bundle)


@case(
    CC,
    CAST,
    "claim-twice",
    "the claimed bundle is claimed again",
    flags=[CLAIM, ENDED],
    requirements=["DC-005"],
)
def _claim_twice(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)
    claim(t, ALICE, bundle)


@case(
    CC,
    CAST,
    "claim-too-many",
    "a claim for more than was cancelled",
    flags=[CLAIM, QUANTITY],
    requirements=["CLAIM-002", "QTY-002"],
)
def _claim_many(t: Tape) -> None:
    cancelled = cancel(t, ALICE, issue(t), quantity=300)
    claim(t, ALICE, cancelled.get("bundle_id"), quantity=301)


@case(
    CC,
    CAST,
    "claimed-withdraw",
    "the GC Issuer withdraws claimed certificates",
    flags=[ENDED, WITHDRAWAL],
    requirements=["WDR-002"],
)
def _claimed_withdraw(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)
    t.send("withdraw", ISSUER, bundle_id=bundle, reason="late")


@case(
    CC,
    CAST,
    "claimed-transfer",
    "a claimed bundle is transferred",
    flags=[ENDED],
    requirements=["XFER-003"],
)
def _claimed_transfer(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)
    transfer(t, ALICE, bundle, BOB)


@case(
    CC,
    CAST,
    "cancel-remainder-later",
    "after a partial cancellation the active rest is transferred",
    flags=[CANCEL, SPLIT, VALID],
    requirements=["DC-007", "SPLIT-001"],
)
def _rest(t: Tape) -> None:
    cancelled = cancel(t, ALICE, issue(t), quantity=100)
    transfer(t, ALICE, cancelled.get("remainder_id"), CAROL)
