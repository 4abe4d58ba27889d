"""What the generator writes: areas, test groups (shared setup), cases and the flags explaining them.

The case modules (``cases_*.py``) register cases with :func:`case`; a case
names its area, its group, a short stable ``name`` (its identity across
regenerations), a comment, flags and the requirement IDs it verifies. The
generator numbers cases (``tcId``) and counts them: a person never does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from gc_conformance.session import ISSUER_ID, device_record
from gc_conformance.vectors.tape import Tape

#: Areas (one folder each), in the order the index lists them.
AREAS: Mapping[str, str] = {
    "timestamps": "strict UTC stamps, dates, production intervals and the attributes they carry (D5, D6)",
    "issuance": "accounts, devices, issuance from production data and issuer-created bundles (D2, D5, D6)",
    "split_transfer": "batch divisibility, transfers, reservations, withdrawals and queries (D4, D5, D9)",
    "cancel_claim": "cancellation for a beneficiary and claims (D3, D4 risks 4 to 6)",
    "validity": "validity periods, the expiry sweep and the order of actions (D8, D9)",
    "correction": "error correction: issue the difference, withdraw, deduct (D10)",
    "storage": "storage records, both loss methods, every allocation method and SD-GCs (D7)",
    "configurations": "configurations #2 and #3 beside an EAC registry (D3)",
    "policies": "points the standard leaves open, under each named policy (D13)",
}

ALICE, BOB, CAROL = "alice", "bob", "carol"
ACCOUNTS = {ALICE: "ACC-ALICE", BOB: "ACC-BOB", CAROL: "ACC-CAROL"}
WIND, SOLAR = "DEV-WIND", "DEV-SOLAR"
METERS = {WIND: "M-WIND", SOLAR: "M-SOLAR"}
ISSUER = ISSUER_ID
STRANGER = "mallory"  # a party with no account
GHOST = 999_999  # a model bundle ID no registry has: becomes an unbound symbol
BODY = "EIB-T"


@attrs.frozen
class Flag:
    """Why cases carrying this flag exist and what failing one means (the file's ``notes``)."""

    description: str
    failure: str


@attrs.frozen
class Group:
    """Cases that share a reset and a setup sequence (a vector file's ``testGroups`` entry)."""

    name: str
    test_type: str
    description: str
    reset: Mapping[str, Any]
    setup: Callable[[Tape], None]
    parameters: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Case:
    area: str
    group: Group
    name: str
    comment: str
    flags: tuple[str, ...]
    requirements: tuple[str, ...]
    run: Callable[[Tape], None]
    profiles: tuple[str, ...] = ()  # beyond those its actions imply


CASES: list[Case] = []
FLAGS: dict[str, Flag] = {}


def flag(name: str, description: str, failure: str) -> str:
    FLAGS[name] = Flag(description, failure)
    return name


def case(
    area: str,
    group: Group,
    name: str,
    comment: str,
    *,
    flags: tuple[str, ...] | list[str],
    requirements: tuple[str, ...] | list[str],
    profiles: tuple[str, ...] = (),
) -> Callable[[Callable[[Tape], None]], Callable[[Tape], None]]:
    """Register the decorated function as a case of ``area`` in ``group``."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}")

    def register(run: Callable[[Tape], None]) -> Callable[[Tape], None]:
        CASES.append(
            Case(area, group, name, comment, tuple(flags), tuple(requirements), run, profiles)
        )
        return run

    return register


def add(
    area: str,
    group: Group,
    name: str,
    comment: str,
    run: Callable[[Tape], None],
    *,
    flags: tuple[str, ...] | list[str],
    requirements: tuple[str, ...] | list[str],
    profiles: tuple[str, ...] = (),
) -> None:
    """:func:`case` for cases built in a loop."""
    case(
        area,
        group,
        name,
        comment,
        flags=flags,
        requirements=requirements,
        profiles=profiles,
    )(run)


# ====================================================================== shared setups


def reset_plain(
    configuration: int = 1, eac_body: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    setup: dict[str, Any] = {
        "issuer": {"issuer_id": ISSUER, "name": "Conformance Test Issuer", "domain": "NL"},
        "configuration": configuration,
    }
    if configuration in (2, 3):
        body = {"body_id": BODY, "name": "Test Issuing Body", "domain": "NL"}
        setup["eac_body"] = {**body, **(eac_body or {})}
    return setup


def standard_cast(t: Tape) -> None:
    """Three holders' accounts and two devices (wind 5 MW, solar 1 kW), both issuing to alice."""
    for holder, account in ACCOUNTS.items():
        t.send(
            "open_account",
            ISSUER,
            account={"account_id": account, "holder_id": holder, "account_name": holder},
        )
    for device, capacity, source in ((WIND, 5_000_000, "wind"), (SOLAR, 1_000, "solar")):
        t.send(
            "register_device",
            ISSUER,
            device=device_record(device, METERS[device], ACCOUNTS[ALICE], capacity, source),
        )


CAST = Group(
    "standard-cast",
    "request_sequence",
    "configuration #1; accounts ACC-ALICE/BOB/CAROL; DEV-WIND (5 MW, meter M-WIND) and "
    "DEV-SOLAR (1 kW, meter M-SOLAR) issuing into ACC-ALICE",
    reset_plain(),
    standard_cast,
)


# ====================================================================== request helpers


def issue(t: Tape, hour: int = 0, wh: str = "1000", *, device: str = WIND, day: int = 0) -> Any:
    """Production of ``wh`` for hour ``hour`` of the epoch day: the model's new bundle ID."""
    start, end = t.hour(hour, day=day)
    result = t.send(
        "submit_production",
        ISSUER,
        device_id=device,
        meter_id=METERS[device],
        start=start,
        end=end,
        energy_wh=wh,
    )
    return result.get("bundle_id")


def transfer(t: Tape, actor: str, bundle: Any, to: str, quantity: Any = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"bundle_id": bundle, "to_account": ACCOUNTS.get(to, to)}
    if quantity is not None:
        fields["quantity"] = quantity
    return t.send("transfer", actor, **fields)


def cancel(
    t: Tape, actor: str, bundle: Any, beneficiary: str = "Acme", quantity: Any = None, **extra: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {"bundle_id": bundle, "beneficiary": beneficiary, **extra}
    if quantity is not None:
        fields["quantity"] = quantity
    return t.send("cancel", actor, **fields)


def claim(
    t: Tape, actor: str, bundle: Any, claimant: str = "Acme", quantity: Any = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"bundle_id": bundle, "claimant": claimant}
    if quantity is not None:
        fields["quantity"] = quantity
    return t.send("claim", actor, **fields)
