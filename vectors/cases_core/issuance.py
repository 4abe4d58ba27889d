"""Cases about issuance: production data, resubmissions and overlaps, registration, authority."""

from __future__ import annotations

from typing import Any

from gc_conformance.session import device_record
from gc_conformance.vectors.cases_core._flags import (
    ATOMIC,
    AUTHORITY,
    CAPACITY,
    DOUBLE_ISSUANCE,
    ENERGY,
    HAND,
    ISS,
    ISSUER_CREATED,
    PRODUCTION_DATA,
    REGISTRATION,
    VALID,
    WITHDRAWAL,
    production,
)
from gc_conformance.vectors.catalog import (
    ALICE,
    BOB,
    CAST,
    ISSUER,
    SOLAR,
    STRANGER,
    WIND,
    add,
    case,
    issue,
)
from gc_conformance.vectors.tape import Tape


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
