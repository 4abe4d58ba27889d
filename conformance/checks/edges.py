"""Rules tested at their edges: the limit, one under, one over; large magnitudes; every party
in every role; every field missing and in every wrong JSON type; identity across issuances.

The targeted checks test each rule in one comfortable scenario (a 1000 Wh
bundle, half of it transferred, the other holder acting). Defects hide where
those scenarios never look: a comparison off by one at the exact limit, an
integer that overflows at 10^7 Wh, a ``>`` that should be ``>=``, a beneficiary
treated as the holder, a field of the wrong type taken for a default, a
certificate number handed out again in a *new* issuance after a withdrawal.
Mutation testing of the example registries (``tools/mutation.py``) showed
these as surviving mutants; each check here names the rule it pushes to its
edge, and fails a registry only on that rule's SHALL (a SHOULD edge, such as
the declared capacity plausibility, is reported under the SHOULD alone).

Refusals here judge the verdict and atomicity, not the canonical code, where
the standard fixes no code for the fault (a field in the wrong JSON type may
fairly be refused as malformed or as naming nothing that exists).
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from gc_conformance.adapter import IssuanceStyle, Profile
from gc_conformance.checks import check
from gc_conformance.outcomes import FailureKind, Severity
from gc_conformance.session import (
    ISSUER_ID,
    STAMP,
    CheckFailed,
    Session,
    World,
    WrongVerdict,
    device_record,
    stamp,
)

CRITICAL, MAJOR, MINOR = Severity.CRITICAL, Severity.MAJOR, Severity.MINOR
WIND, SOLAR = "DEV-WIND", "DEV-SOLAR"
BENEFICIARY = "carol"  # a party with an account, named as beneficiary of alice's cancellation
NOBODY = "mallory"  # a party with no account at all
TEN_MILLION = 10_000_000
BIG = "DEV-BIG"  # 20 MW: 10^7 Wh in one hour is within its capacity


class EdgeFailed(CheckFailed):
    """A failure naming only the requirement(s) the failing edge is about (see the runner)."""


# ====================================================================== helpers


def refused(
    s: Session,
    action: str,
    actor: str,
    why: str,
    *,
    severity: Severity = CRITICAL,
    requirements: tuple[str, ...] = (),
    **fields: Any,
) -> None:
    """``action`` must be refused (any code: see the module docstring) and change nothing."""
    before = s.snapshot()
    answer = s.send(action, actor, expectation="reject", **fields)
    if answer.accepted:
        message = f"{action} was accepted although {why}"
        expected, observed = "refused, nothing changed", f"accepted {dict(answer.result)}"
        if requirements:
            raise EdgeFailed(
                message,
                expected=expected,
                observed=observed,
                severity=severity,
                requirements=requirements,
                kind=FailureKind.WRONG_VERDICT,
            )
        raise WrongVerdict(message, expected=expected, observed=observed, severity=severity)
    try:
        s.require_unchanged(before, f"the refused {action} ({why})")
    except CheckFailed as exc:
        raise EdgeFailed(
            exc.message,
            expected=exc.expected,
            observed=exc.observed,
            severity=exc.severity,
            requirements=("IT-001",),
            kind=exc.kind,
        ) from None


def issuance_of(s: Session, bundle_id: Any) -> tuple[Any, Any]:
    """(device, production start) of a bundle: its issuance, numbering-free."""
    found = s.bundle(bundle_id)
    s.expect(found is not None, "a bundle an accepted answer named is observable (D9)",
             expected=f"bundle {bundle_id!r}", observed="absent")  # fmt: skip
    assert found is not None
    return found.get("device_id"), found.get("production_starting_interval")


def conserved(s: Session, device: str, start: str, total: int, what: str) -> None:
    """The current bundles of one issuance hold ``total`` exactly and partition one range."""
    bundles = [
        b
        for b in s.observe()["bundles"]
        if b.get("device_id") == device and b.get("production_starting_interval") == start
    ]
    held = sum(b["bundle_quantity"] for b in bundles)
    spans = sorted(
        (b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"])
        for b in bundles
    )
    lengths = [b["bundle_quantity"] == b["certificate_bundle_id_range_end"]
               - b["certificate_bundle_id_range_start"] + 1 for b in bundles]  # fmt: skip
    gaps = [a for a, b in itertools.pairwise(spans) if b[0] != a[1] + 1]
    if held != total or not all(lengths) or gaps or any(q <= 0 for q in _quantities(bundles)):
        raise EdgeFailed(
            f"after {what}, the issuance's bundles do not hold exactly what was issued in one "
            "unbroken range of positive bundles",
            expected=f"{total} certificates in contiguous ranges, each quantity = range length",
            observed=f"{held} certificates in {spans} (quantities {_quantities(bundles)})",
            severity=CRITICAL,
            requirements=("DC-007", "SPLIT-001", "SPLIT-002", "SPLIT-004"),
            kind=FailureKind.CONSERVATION,
        )


def _quantities(bundles: Iterable[Mapping[str, Any]]) -> list[int]:
    return [int(b["bundle_quantity"]) for b in bundles]


def issue_wh(s: Session, w: World, wh: int, hour: int = 0, device: str = WIND) -> Any:
    return s.issue(device, w.meters.get(device, "M-BIG"), hour, wh, account=w.account(w.alice))


def production(
    s: Session, device: str, meter: str, start: str, end: str, energy: int | str
) -> dict[str, Any]:
    return {
        "device_id": device,
        "meter_id": meter,
        "start": start,
        "end": end,
        "energy_wh": str(energy),
    }


def shifted(moment: str, **delta: float) -> str:
    parsed = _dt.datetime.strptime(moment, STAMP).replace(tzinfo=_dt.UTC)
    return stamp(parsed + _dt.timedelta(**delta))


# ====================================================================== quantities at the limit


@check(
    "edges.quantity.at_one_under_one_over",
    requirements=["QTY-001", "QTY-002", "SPLIT-001", "SPLIT-004", "DC-007"],
)
def quantity_edges(s: Session) -> None:
    """Every operation taking a quantity: one over what is held refused, all of it and all but
    one accepted, leaving no empty bundle; 1 accepted and 0 refused."""
    w = s.world()
    bundle = issue_wh(s, w, 1000)
    device, start = issuance_of(s, bundle)
    to_bob: dict[str, Any] = {"to_account": w.account(w.bob)}
    # transfer: held + 1 refused; held - 1 accepted (remainder of 1); then 1 of 1 (whole)
    refused(s, "transfer", w.alice, "it asks for one more than the bundle holds",
            requirements=("QTY-002",), bundle_id=bundle, quantity=1001, **to_bob)  # fmt: skip
    moved = s.accept("transfer", w.alice, bundle_id=bundle, quantity=999, **to_bob)
    conserved(s, device, start, 1000, "a transfer of all but one")
    rest = moved.get("remainder_id")
    rest = rest if rest is not None else _the_other(s, w.account(w.alice), device)
    refused(s, "transfer", w.alice, "it asks for 2 of a bundle of 1", requirements=("QTY-002",),
            bundle_id=rest, quantity=2, **to_bob)  # fmt: skip
    refused(s, "transfer", w.alice, "a quantity of 0 is not a positive number of certificates",
            requirements=("QTY-001",), bundle_id=rest, quantity=0, **to_bob)  # fmt: skip
    s.accept("transfer", w.alice, bundle_id=rest, quantity=1, **to_bob)
    conserved(s, device, start, 1000, "a transfer of exactly what the bundle holds")
    s.expect_equal(s.balance(w.account(w.alice)), 0, "alice gave all 1000 away; nothing stays",
                   severity=CRITICAL)  # fmt: skip
    s.expect_equal(s.balance(w.account(w.bob)), 1000, "bob holds all 1000", severity=CRITICAL)
    # cancel, reserve and withdraw at the limit, on a fresh bundle of 10
    cases: tuple[tuple[str, dict[str, Any], str], ...] = (
        ("cancel", {"beneficiary": "Consumer-X"}, w.alice),
        ("reserve", {}, w.alice),
        ("withdraw", {"reason": "edge"}, ISSUER_ID),
    )
    for action, extra, actor in cases:
        if not s.optional(action):
            continue
        hour = {"cancel": 1, "reserve": 2, "withdraw": 3}[action]
        small = issue_wh(s, w, 10, hour=hour)
        dev, first = issuance_of(s, small)
        refused(s, action, actor, "it asks for 11 of a bundle of 10", requirements=("QTY-002",),
                bundle_id=small, quantity=11, **extra)  # fmt: skip
        s.accept(action, actor, bundle_id=small, quantity=10, **extra)
        conserved(s, dev, first, 10, f"a {action} of exactly what the bundle holds")


def _the_other(s: Session, account: str, device: str) -> Any:
    found = [b for b in s.bundles(account_id=account, device_id=device)
             if b["certificate_bundle_status"] == "ACTIVE"]  # fmt: skip
    s.expect(len(found) == 1, "the remainder of a split stays with the sender (SPLIT-001)",
             expected="one active remainder", observed=found)  # fmt: skip
    return found[0]["bundle_id"]


@check(
    "edges.quantity.claims_and_overasks",
    requirements=[
        "CLAIM-002",
        "QTY-002",
        "DC-005",
        "DC-007",
        "SPLIT-001",
        "SPLIT-002",
        "SPLIT-004",
    ],
)
def claim_edges(s: Session) -> None:
    """A claim of one more than was cancelled is refused; all of it is accepted, once."""
    w = s.world()
    bundle = issue_wh(s, w, 50)
    device, start = issuance_of(s, bundle)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary="Consumer-X", quantity=50)
    refused(s, "claim", w.alice, "it claims 51 of 50 cancelled", requirements=("QTY-002",),
            bundle_id=bundle, claimant="Consumer-X", quantity=51)  # fmt: skip
    s.accept("claim", w.alice, bundle_id=bundle, claimant="Consumer-X", quantity=50)
    conserved(s, device, start, 50, "a claim of exactly what was cancelled")
    refused(s, "claim", w.alice, "the certificates were claimed already",
            requirements=("DC-005",), bundle_id=bundle, claimant="Consumer-X")  # fmt: skip


# ====================================================================== magnitudes


@check(
    "edges.magnitude.ten_million_wh",
    requirements=["ATTR-003", "SPLIT-001", "SPLIT-002", "SPLIT-004", "QTY-002", "DC-007"],
)
def ten_million(s: Session) -> None:
    """10^7 Wh issued, split near both ends and in the middle, over-asked: nothing lost or made."""
    w = s.world()
    s.accept("register_device", ISSUER_ID,
             device=device_record(BIG, "M-BIG", w.account(w.alice), 20_000_000, "wind"))  # fmt: skip
    bundle = issue_wh(s, w, TEN_MILLION, device=BIG)
    device, start = issuance_of(s, bundle)
    issued = s.bundle(bundle)
    assert issued is not None
    s.expect_equal(issued["bundle_quantity"], TEN_MILLION, "10^7 Wh issue 10^7 certificates",
                   severity=CRITICAL)  # fmt: skip
    to_bob: dict[str, Any] = {"to_account": w.account(w.bob)}
    refused(s, "transfer", w.alice, "it asks for 10^7 + 1 of 10^7", requirements=("QTY-002",),
            bundle_id=bundle, quantity=TEN_MILLION + 1, **to_bob)  # fmt: skip
    moved = s.accept("transfer", w.alice, bundle_id=bundle, quantity=TEN_MILLION - 1, **to_bob)
    conserved(s, device, start, TEN_MILLION, "a transfer of 10^7 - 1")
    part = moved.get("bundle_id")
    if part is None:
        part = s.bundles(account_id=w.account(w.bob), device_id=BIG)[0]["bundle_id"]
    s.accept("cancel", w.bob, bundle_id=part, beneficiary="Consumer-X", quantity=5_000_000)
    conserved(s, device, start, TEN_MILLION, "a cancellation of 5 * 10^6 of 10^7 - 1")
    s.expect_equal(s.balance(w.account(w.bob)), 4_999_999, "bob keeps 10^7 - 1 - 5 * 10^6",
                   severity=CRITICAL)  # fmt: skip
    s.expect_equal(s.balance(w.account(w.bob), "CANCELLED"), 5_000_000,
                   "5 * 10^6 cancelled", severity=CRITICAL)  # fmt: skip


# ====================================================================== every party in every role


@check(
    "edges.roles.every_party",
    requirements=["AUTH-001", "AUTH-002", "AUTH-003", "AUTH-004", "AUTH-006", "DC-006"],
)
def every_party_in_every_role(s: Session) -> None:
    """Only the holder transfers, cancels, claims, reserves and releases; only the issuer
    withdraws: the issuer, another holder, the beneficiary and a party with no account are refused."""
    w = s.world()
    # carol (the beneficiary of alice's cancellation below) has an account; mallory has none
    others = {"the GC Issuer": ISSUER_ID, "another holder": w.bob,
              "the beneficiary": BENEFICIARY, "a party with no account": NOBODY}  # fmt: skip
    bundle = issue_wh(s, w, 100)
    to_bob: dict[str, Any] = {"to_account": w.account(w.bob)}
    for role, party in others.items():
        refused(s, "transfer", party, f"{role} is not the holder",
                requirements=("AUTH-001",), bundle_id=bundle, **to_bob)  # fmt: skip
        refused(s, "transfer", party, f"{role} is not the holder (part)",
                requirements=("AUTH-001",), bundle_id=bundle, quantity=1, **to_bob)  # fmt: skip
        refused(s, "cancel", party, f"{role} is not the holder", requirements=("AUTH-002",),
                bundle_id=bundle, beneficiary=BENEFICIARY)  # fmt: skip
        if party != ISSUER_ID and s.optional("reserve"):  # the issuer may lock (AUTH-004)
            refused(s, "reserve", party, f"{role} is not the holder",
                    requirements=("AUTH-004",), bundle_id=bundle)  # fmt: skip
    for party in (w.alice, w.bob, BENEFICIARY, NOBODY):
        refused(s, "withdraw", party, "only the GC Issuer withdraws",
                requirements=("AUTH-006",), bundle_id=bundle, reason="edge")  # fmt: skip
    if all([s.optional("reserve"), s.optional("release")]):  # both named when left out
        s.accept("reserve", w.alice, bundle_id=bundle)
        for role, party in others.items():
            if party != ISSUER_ID:
                refused(s, "release", party, f"{role} is not the holder",
                        requirements=("AUTH-004",), bundle_id=bundle)  # fmt: skip
        s.accept("release", w.alice, bundle_id=bundle)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary=BENEFICIARY)
    for role, party in others.items():
        refused(s, "claim", party, f"{role} does not hold the cancelled certificates",
                requirements=("AUTH-003",), bundle_id=bundle, claimant=BENEFICIARY)  # fmt: skip
    refused(s, "claim", w.alice, "only the beneficiary named at cancellation is claimed for",
            requirements=("DC-006",), bundle_id=bundle, claimant="Someone Else")  # fmt: skip
    s.accept("claim", w.alice, bundle_id=bundle, claimant=BENEFICIARY)


# ====================================================================== fields missing, wrong types

#: One value of each JSON type; a field is sent with every one its type is not.
JSON_VALUES: dict[str, Any] = {
    "null": None,
    "boolean": True,
    "integer": 7,
    "number": 7.5,
    "string": "seven",
    "array": [7],
    "object": {"value": 7},
}
#: Per action: each field -> the JSON types a correct value may have (the others are wrong).
#: ``bundle_id`` is the registry's own opaque ID (a string or an integer); ``quantity``
#: may be left out (the whole bundle), not sent as null.
FIELD_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "transfer": {"bundle_id": ("integer", "string"), "to_account": ("string",),
                 "quantity": ("integer",)},
    "cancel": {"bundle_id": ("integer", "string"), "beneficiary": ("string",),
               "quantity": ("integer",)},
    "claim": {"bundle_id": ("integer", "string"), "claimant": ("string",),
              "quantity": ("integer",)},
    "reserve": {"bundle_id": ("integer", "string"), "quantity": ("integer",)},
    "withdraw": {"bundle_id": ("integer", "string"), "reason": ("string",),
                 "quantity": ("integer",)},
    "submit_production": {"device_id": ("string",), "meter_id": ("string",),
                          "start": ("string",), "end": ("string",),
                          "energy_wh": ("string", "integer")},
}  # fmt: skip
OPTIONAL = {"quantity"}


@check(
    "edges.fields.missing_and_wrong_types",
    requirements=["IT-004", "IT-001", "QTY-001", "PROD-004", "TIME-001", "CANC-002"],
)
def fields_missing_and_wrong_types(s: Session) -> None:
    """Every required field missing, and every field in each wrong JSON type, is refused and
    changes nothing; the same request with every field right is then accepted."""
    w = s.world()
    bundle = issue_wh(s, w, 100)
    cancelled = issue_wh(s, w, 100, hour=1)
    s.accept("cancel", w.alice, bundle_id=cancelled, beneficiary="Consumer-X")
    start, end = s.hour(5)
    valid: dict[str, tuple[str, dict[str, Any]]] = {
        "transfer": (w.alice, {"bundle_id": bundle, "to_account": w.account(w.bob),
                               "quantity": 1}),
        "cancel": (w.alice, {"bundle_id": bundle, "beneficiary": "Consumer-X", "quantity": 1}),
        "claim": (w.alice, {"bundle_id": cancelled, "claimant": "Consumer-X", "quantity": 1}),
        "reserve": (w.alice, {"bundle_id": bundle, "quantity": 1}),
        "withdraw": (ISSUER_ID, {"bundle_id": bundle, "reason": "edge", "quantity": 1}),
    }  # fmt: skip
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        valid["submit_production"] = (
            ISSUER_ID,
            production(s, WIND, w.meters[WIND], start, end, 100),
        )
    for action, (actor, fields) in valid.items():
        if not s.optional(action):  # an action the registry lacks: judge the others
            continue
        for name in fields:
            types = FIELD_TYPES[action][name]
            if name not in OPTIONAL:
                missing = {k: v for k, v in fields.items() if k != name}
                refused(s, action, actor, f"the required field {name} is missing",
                        requirements=_field_requirement(action, name), **missing)  # fmt: skip
            for kind, value in JSON_VALUES.items():
                if kind in types or (kind == "null" and name in OPTIONAL):
                    continue
                if name == "energy_wh" and kind == "number":
                    continue  # 7.5 Wh written as a JSON number is a fair reading (D5 rounds)
                wrong = {**fields, name: value}
                refused(s, action, actor, f"{name} is a JSON {kind} ({value!r})",
                        requirements=_field_requirement(action, name), **wrong)  # fmt: skip
    # and with every field right, each is accepted (the refusals were for the fault alone)
    moved = s.accept("transfer", w.alice, **valid["transfer"][1])
    rest = moved.get("remainder_id")
    rest = rest if rest is not None else _the_other(s, w.account(w.alice), WIND)
    s.accept("cancel", w.alice, **{**valid["cancel"][1], "bundle_id": rest})
    s.accept("claim", w.alice, **valid["claim"][1])
    if "submit_production" in valid:
        s.accept("submit_production", ISSUER_ID, **valid["submit_production"][1])


def _field_requirement(action: str, name: str) -> tuple[str, ...]:
    if name == "quantity":
        return ("QTY-001",)
    if name == "energy_wh":
        return ("PROD-004",)
    if name in ("start", "end"):
        return ("TIME-001",)
    if action == "cancel" and name == "beneficiary":
        return ("CANC-002",)
    return ("IT-004",)


# ====================================================================== identity across issuances


@check(
    "edges.ids.unique_across_issuances",
    requirements=["ID-002", "DC-003", "REC-001"],
)
def certificate_ids_unique_across_issuances(s: Session) -> None:
    """No certificate ID is handed out twice, per device or registry-wide, across issuances,
    withdrawn certificates included: a new issuance after a withdrawal gets new IDs."""
    w = s.world()
    seen: dict[tuple[Any, Any, str], set[tuple[int, int]]] = {}

    def remember() -> None:
        for b in s.observe()["bundles"]:
            issuance = (b.get("device_id"), b.get("production_starting_interval"))
            span = (b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"])
            seen.setdefault((*issuance, str(b.get("issuance_id"))), set()).add(span)

    first = issue_wh(s, w, 1000, hour=0)
    solar = _solar_reading(s, w, hour=0)
    remember()
    s.accept("withdraw", ISSUER_ID, bundle_id=first, reason="metering error")
    remember()
    if solar is not None:
        s.accept("withdraw", ISSUER_ID, bundle_id=solar, reason="metering error")
        remember()
    for hour in (1, 2):
        issue_wh(s, w, 1000, hour=hour)
        _solar_reading(s, w, hour=hour)
        remember()
    _judge_overlaps(s, seen)


def _solar_reading(s: Session, w: World, hour: int) -> Any:
    """A reading of the small solar device (another device), within its 1 kW capacity."""
    return s.issue(SOLAR, w.meters[SOLAR], hour, 500, account=w.account(w.alice))


def _judge_overlaps(s: Session, seen: Mapping[tuple[Any, Any, str], set[tuple[int, int]]]) -> None:
    """Certificates of different issuances never share an ID: on one device, nor across the
    registry. A registry numbering per device (each device from 1) qualifies an ID by its
    device, so registry-wide the identity compared is (device, ID) for such a registry."""
    groups = sorted(seen.items(), key=lambda item: repr(item[0]))
    per_device = _numbers_per_device(groups)
    for index, (one, spans) in enumerate(groups):
        for other, others in groups[index + 1 :]:
            if one[:2] == other[:2] and one[2] == other[2]:
                continue
            same_device = one[0] == other[0]
            if not same_device and per_device:
                continue
            clash = [(a, b) for a in spans for b in others if a[0] <= b[1] and b[0] <= a[1]]
            if clash:
                scope = "of the same device" if same_device else "registry-wide"
                raise EdgeFailed(
                    f"two issuances {scope} share certificate IDs (IDs are never reused, not "
                    "even those of withdrawn certificates)",
                    expected="disjoint certificate ID ranges across issuances",
                    observed=f"{one[0]} {one[1]} {clash[0][0]} and {other[0]} {other[1]} "
                    f"{clash[0][1]}",
                    severity=CRITICAL,
                    requirements=("ID-002", "DC-003"),
                )


def _numbers_per_device(groups: list[tuple[tuple[Any, Any, str], set[tuple[int, int]]]]) -> bool:
    """Whether the registry numbers per device: each device's lowest ID is the same number."""
    lowest: dict[Any, int] = {}
    for (device, _, _), spans in groups:
        low = min(start for start, _ in spans)
        lowest[device] = min(lowest.get(device, low), low)
    return len(lowest) > 1 and len(set(lowest.values())) == 1


#: Bundle IDs no registry hands out, at the edge of 64-bit integers (the limit, one over, one
#: under its negative end, far beyond) and as digit strings of 19 and 20 digits.
OUT_OF_RANGE_IDS: tuple[int | str, ...] = (
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
)


@check("edges.ids.beyond_64_bits_name_nothing", requirements=["IT-004", "IT-001"])
def ids_beyond_64_bits(s: Session) -> None:
    """A bundle ID at or beyond the end of 64-bit integers (as a JSON integer or a digit
    string) names no bundle: a transfer or cancellation naming one is refused and changes
    nothing, and a real bundle is then transferred as usual.

    Why: registries that keep generated integer IDs in a database convert the ID of a request
    to the database's 64-bit integer; at 2^63 that conversion overflows, and a registry that
    lets it escape answers a server error (not a refusal) or, worse, wraps the ID round onto
    another bundle. The suite's own IDs never come near that edge, so it is tested here.
    """
    w = s.world()
    bundle = issue_wh(s, w, 10)
    for far in OUT_OF_RANGE_IDS:
        refused(s, "transfer", w.alice, f"the bundle ID {far!r} names no bundle",
                requirements=("IT-004",), bundle_id=far, to_account=w.account(w.bob))  # fmt: skip
        refused(s, "cancel", w.alice, f"the bundle ID {far!r} names no bundle",
                requirements=("IT-004",), bundle_id=far, beneficiary="Consumer-X")  # fmt: skip
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob))


# ====================================================================== intervals at their edges


@check(
    "edges.issuance.adjacent_and_one_second_overlaps",
    requirements=["DC-001", "TIME-002", "TIME-004"],
)
def adjacent_intervals(s: Session) -> None:
    """Back-to-back hours are both issued; an interval overlapping issued production by one
    second is refused; 60 minutes is accepted and 60 minutes and one second refused."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    meter = w.meters[WIND]
    h1, h1_end = s.hour(1)
    h2, h2_end = s.hour(2)
    s.accept("submit_production", ISSUER_ID, **production(s, WIND, meter, h1, h1_end, 100))
    s.accept("submit_production", ISSUER_ID, **production(s, WIND, meter, h2, h2_end, 100))
    h0, h0_end = s.hour(0)  # ends where issued production starts
    s.accept("submit_production", ISSUER_ID, **production(s, WIND, meter, h0, h0_end, 100))
    for start, end in (
        (shifted(h2_end, seconds=-1), shifted(h2_end, minutes=30)),  # last second of hour 2
        (shifted(h0, minutes=30), shifted(h1, seconds=1)),  # first second of hour 1
        (shifted(h1, minutes=59, seconds=59), shifted(h2, seconds=1)),  # across the seam
    ):
        refused(s, "submit_production", ISSUER_ID, f"{start}..{end} overlaps issued production",
                requirements=("DC-001",), **production(s, WIND, meter, start, end, 1))  # fmt: skip
    h5, _ = s.hour(5)
    refused(s, "submit_production", ISSUER_ID, "the interval lasts 60 minutes and 1 second",
            requirements=("TIME-002",),
            **production(s, WIND, meter, h5, shifted(h5, hours=1, seconds=1), 10))  # fmt: skip
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, meter, h5, shifted(h5, hours=1), 10))  # fmt: skip
    h7, _ = s.hour(7)
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, meter, h7, shifted(h7, minutes=59, seconds=59), 10))  # fmt: skip
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, meter, shifted(h7, minutes=59, seconds=59),
                          shifted(h7, hours=1), 1))  # fmt: skip


@check("edges.production.interval_ending_now", requirements=["PROD-006"])
def interval_ending_now(s: Session) -> None:
    """Production whose interval ends exactly now has ended and is accepted; one second later
    is refused (needs a clock the suite controls)."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    s.require_clock()
    w = s.world()
    now = stamp(s.now)
    refused(s, "submit_production", ISSUER_ID, "the interval ends one second from now",
            requirements=("PROD-006",),
            **production(s, WIND, w.meters[WIND], shifted(now, minutes=-59, seconds=1),
                         shifted(now, seconds=1), 10))  # fmt: skip
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, w.meters[WIND], shifted(now, hours=-1), now, 10))  # fmt: skip


@check("edges.timestamps.non_zero_utc_offsets", requirements=["TIME-001"])
def non_zero_offsets(s: Session) -> None:
    """A stamp with a non-zero UTC offset (``+02:00``, ``-05:30``) is refused: only strict UTC
    ``...Z`` is accepted; a registry that took one as UTC wall time would move the hour."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    start, end = s.hour(10)
    for offset, hours in (("+02:00", 2), ("-05:30", -5.5), ("+14:00", 14)):
        local_start = _local(start, hours) + offset
        local_end = _local(end, hours) + offset
        before = s.snapshot()
        answer = s.send("submit_production", ISSUER_ID, expectation="reject INVALID_TIMESTAMP",
                        **production(s, WIND, w.meters[WIND], local_start, local_end, 10))  # fmt: skip
        if answer.accepted:
            shown = s.bundle(answer.result.get("bundle_id"))
            moved = shown is not None and shown.get("production_starting_interval") != start
            raise EdgeFailed(
                f"a production interval stamped with the UTC offset {offset} was accepted"
                + (" and recorded at another instant than the one it names" if moved else ""),
                expected=f"refused INVALID_TIMESTAMP (the same instant is {start}..{end})",
                observed=f"accepted; recorded as "
                f"{None if shown is None else shown.get('production_starting_interval')}",
                severity=CRITICAL if moved else MAJOR,
                requirements=("TIME-001",),
            )
        try:
            s.require_unchanged(before, f"the refused reading stamped {offset}")
        except CheckFailed as exc:
            raise EdgeFailed(exc.message, expected=exc.expected, observed=exc.observed,
                             severity=CRITICAL, requirements=("IT-001",)) from None  # fmt: skip


def _local(utc: str, hours: float) -> str:
    """The wall-clock time at UTC ``+hours`` of a UTC stamp, without its zone designator."""
    return shifted(utc, hours=hours)[:-1]


# ====================================================================== limits of declared policies


@check("edges.capacity.at_the_nameplate_limit", requirements=["ATTR-003", "PROD-005"])
def capacity_edges(s: Session) -> None:
    """Under the declared NAMEPLATE plausibility, exactly capacity x interval is issued in full;
    one Wh more is refused (PROD-005 is a SHOULD: reported alone); 1 W devices count too."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    if s.policy("capacity", "NAMEPLATE") != "NAMEPLATE":
        from gc_conformance.session import NotApplicable

        raise NotApplicable("the registry declares no NAMEPLATE capacity plausibility")
    w = s.world()
    s.accept("register_device", ISSUER_ID,
             device=device_record("DEV-ONE-WATT", "M-ONE-WATT", w.account(w.alice), 1, "solar"))  # fmt: skip
    s.accept("register_device", ISSUER_ID,
             device=device_record("DEV-MW", "M-MW", w.account(w.alice), 1_000_000, "wind"))  # fmt: skip
    for device, meter, capacity in (("DEV-ONE-WATT", "M-ONE-WATT", 1), ("DEV-MW", "M-MW", 10**6)):
        start, end = s.hour(0)
        refused(s, "submit_production", ISSUER_ID,
                f"{capacity + 1} Wh in one hour is above the {capacity} W nameplate",
                severity=MINOR, requirements=("PROD-005",),
                **production(s, device, meter, start, end, capacity + 1))  # fmt: skip
        result = s.accept("submit_production", ISSUER_ID,
                          **production(s, device, meter, start, end, capacity))  # fmt: skip
        issued = s.bundle(result.get("bundle_id"))
        s.expect(issued is not None and issued["bundle_quantity"] == capacity,
                 f"{capacity} Wh at the nameplate limit issue {capacity} certificates",
                 expected=capacity, observed=issued, severity=CRITICAL)  # fmt: skip
        half, half_end = s.hour(1)
        half_end = shifted(half, minutes=30)
        if capacity > 1:
            refused(s, "submit_production", ISSUER_ID,
                    f"{capacity // 2 + 1} Wh in 30 minutes is above the {capacity} W nameplate",
                    severity=MINOR, requirements=("PROD-005",),
                    **production(s, device, meter, half, half_end, capacity // 2 + 1))  # fmt: skip
            s.accept("submit_production", ISSUER_ID,
                     **production(s, device, meter, half, half_end, capacity // 2))  # fmt: skip


@check("edges.devices.capacity_limits", requirements=["DEV-001"])
def device_capacity_limits(s: Session) -> None:
    """A device's capacity is a positive number of W: 1 W is registered, 0 and -1 are refused."""
    w = s.world()
    for capacity in (0, -1):
        refused(s, "register_device", ISSUER_ID, f"a capacity of {capacity} W is not positive",
                requirements=("DEV-001",),
                device=device_record(f"DEV-C{capacity}", f"M-C{capacity}",
                                     w.account(w.alice), capacity, "solar"))  # fmt: skip
    s.accept("register_device", ISSUER_ID,
             device=device_record("DEV-C1", "M-C1", w.account(w.alice), 1, "solar"))  # fmt: skip


__all__ = ["EdgeFailed", "refused"]


# ====================================================================== storage pools of three


def _pool_of_three(s: Session, method: str) -> tuple[Any, tuple[Any, Any, Any], int]:
    """Three backed charges (wind, solar, wind; 1000 Wh each, 800 Wh net under the start-up
    efficiency of 4/5) in intervals n, n+1, n+2 of a storage system allocating by ``method``."""
    from gc_conformance.checks import storage as st

    sw = st.storage_world(s, allocation=(method,))
    n = st.commission(s, sw)
    charges = tuple(
        st.backed_charge(s, sw, n + i, device)[0]
        for i, device in enumerate(("DEV-WIND", "DEV-SOLAR", "DEV-WIND"))
    )
    return sw, (charges[0], charges[1], charges[2]), n + 3


#: Per method: the first discharge (1200 Wh) and the second (800 Wh), by charge (A, B, C).
_POOL_EXPECTED = {
    "FIFO": ({0: 800, 1: 400}, {1: 400, 2: 400}),
    "LIFO": ({2: 800, 1: 400}, {1: 400, 0: 400}),
    "WEIGHTED_AVERAGE": ({0: 400, 1: 400, 2: 400}, {0: 267, 1: 267, 2: 266}),
}


@check(
    "edges.storage.pool_of_three",
    requirements=["STOR-018", "STOR-020", "STOR-021", "STOR-022", "STOR-024"],
    profile=Profile.STORAGE,
)
def storage_pool_of_three(s: Session) -> None:
    """A pool of three charge records: discharges spanning two and three of them follow the
    declared method; a discharge asking more than the pool holds gets no more than is there."""
    from gc_conformance.checks import storage as st

    method = st.choose_policy(s, "allocation_method", "FIFO", ("FIFO", "LIFO", "WEIGHTED_AVERAGE"))
    rule = {"FIFO": "STOR-020", "LIFO": "STOR-021", "WEIGHTED_AVERAGE": "STOR-022"}[method]
    sw, charges, n = _pool_of_three(s, method)
    first = st.record(s, sw, "DISCHARGING", n, 1200)
    st.allocate(s, sw, [first])
    expected_first, _ = _POOL_EXPECTED[method]
    _expect_pool(s, sw, first, {charges[i]: wh for i, wh in expected_first.items()}, method, rule)
    if method == "WEIGHTED_AVERAGE":
        return  # the second discharge's thirds round: how is not said (STOR-022 is about shares)
    second = st.record(s, sw, "DISCHARGING", n + 1, 800)
    st.allocate(s, sw, [second])
    _, expected_second = _POOL_EXPECTED[method]
    _expect_pool(s, sw, second, {charges[i]: wh for i, wh in expected_second.items()}, method, rule)
    # 400 net Wh are left in the pool: a discharge of 401 asks for more than is there
    over = st.record(s, sw, "DISCHARGING", n + 2, 401)
    s.send("allocate_storage", sw.operator, storage_id=st.STORAGE_ID, sdr_ids=[over])
    given = sum(st.allocations_seen(s, sw).get(over, {}).values())
    if given > 400:
        raise EdgeFailed(
            "a discharge was allocated more energy than the pool had left",
            expected="at most the 400 net Wh left (each net Wh of a charge goes to one discharge)",
            observed=f"{given} Wh allocated",
            severity=CRITICAL,
            requirements=("STOR-018",),
        )
    answer = s.send("issue_storage_gc", ISSUER_ID, expectation="reject", sdr_id=over)
    if answer.accepted:
        raise EdgeFailed(
            "an SD-GC was issued for a discharge the pool could not fully cover",
            expected="refused (an SD-GC only for a fully allocated discharge record)",
            observed=f"accepted {dict(answer.result)}",
            severity=CRITICAL,
            requirements=("STOR-024",),
        )


def _expect_pool(
    s: Session, sw: Any, sdr: Any, expected: Mapping[Any, int], method: str, rule: str
) -> None:
    from gc_conformance.checks import storage as st

    observed = {k: v for k, v in st.allocations_seen(s, sw).get(sdr, {}).items() if v}
    if observed != dict(expected):
        raise EdgeFailed(
            f"a discharge spanning several charge records of a pool of three is not allocated "
            f"by {method}",
            expected=str(dict(expected)),
            observed=str(observed),
            severity=CRITICAL,
            requirements=(rule, "STOR-018"),
        )


# ====================================================================== validity at its end (D8)

_SECOND = _dt.timedelta(seconds=1)
_READINGS = ("CALENDAR_YEAR", "ROLLING_12_MONTHS", "ROLLING_24_MONTHS")


def _months_later(moment: _dt.datetime, months: int) -> _dt.datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    following = _dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - _dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _validity_end(reading: str, production_end: _dt.datetime) -> _dt.datetime:
    """The first instant a GC produced up to ``production_end`` is no longer valid."""
    if reading == "CALENDAR_YEAR":
        return _dt.datetime((production_end - _SECOND).year + 1, 1, 1, tzinfo=_dt.UTC)
    return _months_later(production_end, 12 if reading == "ROLLING_12_MONTHS" else 24)


@check("edges.validity.at_the_end_of_validity", requirements=["VAL-004", "VAL-008"])
def validity_edges(s: Session) -> None:
    """Under the declared validity reading, one second before the end certificates are used and
    production is issued; at the end itself, use and issuance are refused (no sweep needed)."""
    from gc_conformance.checks.lifecycle_time import own_hour_stretch
    from gc_conformance.session import NotApplicable

    s.require_clock()
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    reading = s.capabilities.policies.get("validity")
    if reading not in _READINGS:
        raise NotApplicable(f"no validity reading the suite can judge is declared ({reading!r})")
    _, end = s.hour(0)
    produced_end = _dt.datetime.strptime(end, STAMP).replace(tzinfo=_dt.UTC)
    stretch = own_hour_stretch(s, reading, produced_end)  # D8's own-hour exemption
    w = s.world()
    for device, meter in (("DEV-LATE-1", "M-LATE-1"), ("DEV-LATE-2", "M-LATE-2")):
        s.accept("register_device", ISSUER_ID,
                 device=device_record(device, meter, w.account(w.alice), 5_000, "solar"))  # fmt: skip
    start, end = s.hour(0)
    used = issue_wh(s, w, 100, hour=0)
    kept = s.issue(SOLAR, w.meters[SOLAR], 0, 100, account=w.account(w.alice))
    ends = _months_later(produced_end, 12) if stretch else _validity_end(reading, produced_end)
    s.advance(seconds=(ends - _SECOND - s.now).total_seconds())
    s.accept("transfer", w.alice, bundle_id=used, to_account=w.account(w.bob), quantity=10)
    s.accept("submit_production", ISSUER_ID,
             **production(s, "DEV-LATE-1", "M-LATE-1", start, end, 10))  # fmt: skip
    s.advance(seconds=1)
    uses: tuple[tuple[str, dict[str, Any]], ...] = (
        ("transfer", {"to_account": w.account(w.bob)}),
        ("cancel", {"beneficiary": "Consumer-X"}),
        ("reserve", {}),
    )
    for action, extra in uses:
        refused(s, action, w.alice, f"the certificates' validity ({reading}) ended at {stamp(ends)}",
                requirements=("VAL-004",), bundle_id=kept, **extra)  # fmt: skip
    refused(s, "submit_production", ISSUER_ID,
            f"the production's validity ({reading}) ended at {stamp(ends)}",
            requirements=("VAL-008",),
            **production(s, "DEV-LATE-2", "M-LATE-2", start, end, 10))  # fmt: skip
    if reading == "CALENDAR_YEAR" and not stretch:
        # Production ending at midnight on 1 January belongs to the year it ended in (its last
        # second lies there): at that very instant its validity has ended too.
        last_start, last_end = stamp(ends - _dt.timedelta(hours=1)), stamp(ends)
        s.accept("register_device", ISSUER_ID,
                 device=device_record("DEV-LATE-3", "M-LATE-3", w.account(w.alice), 5_000,
                                      "solar"))  # fmt: skip
        refused(s, "submit_production", ISSUER_ID,
                f"production {last_start}..{last_end} was valid until {last_end} only",
                requirements=("VAL-008",),
                **production(s, "DEV-LATE-3", "M-LATE-3", last_start, last_end, 10))  # fmt: skip
        # One second later, production whose last second lies in the new year is issued.
        s.advance(seconds=1)
        first_start = stamp(ends - _dt.timedelta(minutes=59, seconds=59))
        s.accept("submit_production", ISSUER_ID,
                 **production(s, "DEV-LATE-3", "M-LATE-3", first_start, stamp(ends + _SECOND),
                              10))  # fmt: skip


# ====================================================================== validity on the wall clock (D8)

#: How long after issuance the certificates' validity ends (room for issuance and a use before).
WALL_LEAD = _dt.timedelta(seconds=10)
#: How far the suite's clock and the registry's may differ (both keep UTC, e.g. by NTP): uses are
#: judged this long after the end, and a use before the end is placed at least this long before.
CLOCK_MARGIN = _dt.timedelta(seconds=5)


def months_before(moment: _dt.datetime, months: int) -> _dt.datetime | None:
    """The production end whose rolling validity of ``months`` ends exactly at ``moment``; None
    when no such instant exists (29 February, or a 31st with a shorter month before it)."""
    index = moment.month - 1 - months
    try:
        earlier = moment.replace(year=moment.year + index // 12, month=index % 12 + 1)
    except ValueError:
        return None
    return earlier if _months_later(earlier, months) == moment else None


@check("edges.validity.use_after_end_wall_clock", requirements=["VAL-004"])
def validity_use_after_end_wall_clock(s: Session) -> None:
    """On its own clock, a registry refuses to transfer or cancel certificates once their
    validity has ended (D8), with no sweep and no clock control: production is issued so that
    its validity ends seconds later, used once before that end, and refused after it.

    Why this design: a wall-clock registry cannot be moved to the end of a validity, so the
    validity is made to end now instead. Under a rolling reading, production that ended 12 (or
    24) months before an instant a few seconds ahead is still valid at issuance (VAL-010 does
    not apply yet) and expires while the check waits. Under the calendar-year reading that end
    is 1 January 00:00 UTC, within reach of a wall clock only in the year's last minute: the
    check is then not applicable (``edges.validity.at_the_end_of_validity`` judges it on a
    controlled clock). The two clocks are assumed to agree within :data:`CLOCK_MARGIN`; a
    registry that refuses the still-valid production or its use before the end leaves VAL-004
    not verified, never failed. A registry whose clock the suite moves runs the same scenario,
    the clock moved instead of waited for.
    """
    import time

    from gc_conformance.adapter import Clock
    from gc_conformance.checks.core import declared_own_hour_use
    from gc_conformance.outcomes import SkipKind
    from gc_conformance.session import NotApplicable

    controlled = s.capabilities.clock is Clock.CONTROLLED
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    reading = s.capabilities.policies.get("validity")
    if reading not in _READINGS:
        raise NotApplicable(f"no validity reading the suite can judge is declared ({reading!r})")
    w = s.world()

    def clock() -> _dt.datetime:
        return s.now if controlled else s.wall_clock()

    wall = clock().replace(microsecond=0) + _SECOND
    ends = wall + WALL_LEAD + CLOCK_MARGIN
    # D8's own-hour exemption (own_hour_use EXEMPT_12_MONTHS): under CALENDAR_YEAR a GC stays
    # usable until 12 months after its production, so that is the end judged here, reached as
    # under a rolling 12-month reading (an undeclared own_hour_use is judged NOT_EXEMPT).
    exempt = reading == "CALENDAR_YEAR" and declared_own_hour_use(s) == "EXEMPT_12_MONTHS"

    def end_of_use(produced: _dt.datetime) -> _dt.datetime:
        if exempt:
            return max(_validity_end(reading, produced), _months_later(produced, 12))
        return _validity_end(reading, produced)

    if reading == "CALENDAR_YEAR" and not exempt:
        new_year = _dt.datetime(wall.year + 1, 1, 1, tzinfo=_dt.UTC)
        if controlled:
            s.advance(seconds=(new_year - ends).total_seconds())
        elif not ends <= new_year <= ends + _dt.timedelta(minutes=1):
            raise NotApplicable(
                "the registry cannot move its clock, and under CALENDAR_YEAR certificates "
                f"expire only at {stamp(new_year)}; with a wall clock use after the end is "
                "judged only in the year's last minute"
            )
        ends = new_year
        production_end: _dt.datetime | None = ends - _dt.timedelta(hours=1)
    else:
        production_end = months_before(ends, 24 if reading == "ROLLING_24_MONTHS" else 12)
    if production_end is None or end_of_use(production_end) != ends:
        raise NotApplicable(
            f"no production interval ends exactly {reading} before {stamp(ends)} (a day that "
            "the earlier month lacks); try again tomorrow"
        )
    start = stamp(production_end - _dt.timedelta(hours=1))
    answer = s.send("submit_production", ISSUER_ID, expectation="accept",
                    **production(s, WIND, w.meters[WIND], start, stamp(production_end), 100))  # fmt: skip
    if not answer.accepted:
        raise NotApplicable(
            f"the registry refused production whose validity ({reading}) ends at {stamp(ends)} "
            f"({answer.code}: {answer.message}): its clock may run ahead of the suite's; use "
            "after the end cannot be judged",
            kind=SkipKind.NOT_VERIFIED,
        )
    bundle = s.created(answer.result, "bundle_id", "issuance")
    before = clock()
    if ends - before < CLOCK_MARGIN:
        raise NotApplicable(
            "the registry took too long to issue: no use could be placed before the validity "
            f"ended at {stamp(ends)}",
            kind=SkipKind.NOT_VERIFIED,
        )
    used = s.send("transfer", w.alice, expectation="accept", bundle_id=bundle,
                  to_account=w.account(w.bob), quantity=10)  # fmt: skip
    if not used.accepted:
        raise NotApplicable(
            f"the registry refused a transfer {int((ends - before).total_seconds())} s before the "
            f"validity ended ({used.code}: {used.message}): the refusal after the end would "
            "show nothing",
            kind=SkipKind.NOT_VERIFIED,
        )
    rest = used.result.get("remainder_id")
    if rest is None:
        rest = _the_other(s, w.account(w.alice), WIND)
    wait = (ends + CLOCK_MARGIN - clock()).total_seconds()
    if controlled:
        s.advance(seconds=wait)
    elif wait > 0:
        time.sleep(wait)
    why = f"the certificates' validity ({reading}) ended at {stamp(ends)}"
    refused(s, "transfer", w.alice, why, requirements=("VAL-004",), bundle_id=rest,
            to_account=w.account(w.bob))  # fmt: skip
    refused(s, "cancel", w.alice, why, requirements=("VAL-004",), bundle_id=rest,
            beneficiary="Consumer-X")  # fmt: skip
    if s.optional("reserve"):
        refused(s, "reserve", w.alice, why, requirements=("VAL-004",), bundle_id=rest)


# ====================================================================== queries at their edges


@check("edges.query.production_period_bounds", requirements=["IT-003"])
def query_period_bounds(s: Session) -> None:
    """A query by production period matches the bundles whose interval overlaps it: a window
    ending where an interval starts, or starting where it ends, does not match it. A window
    whose end comes before its start holds no instant, so it matches nothing: it is refused
    as malformed or answered without the bundle, never with it (IT-003; a registry that swaps
    the ends answers for a window nobody asked about)."""
    w = s.world()
    bundle = issue_wh(s, w, 100, hour=5)
    start, end = s.hour(5)
    cases = (
        (shifted(start, hours=-1), start, False),  # ends where the interval starts
        (end, shifted(end, hours=1), False),  # starts where the interval ends
        (shifted(start, hours=-1), shifted(start, seconds=1), True),  # its first second
        (shifted(end, seconds=-1), shifted(end, hours=1), True),  # its last second
        (shifted(start, minutes=30), shifted(start, minutes=20), False),  # reversed, inside it
        (shifted(start, seconds=1), start, False),  # reversed by one second at its start
    )
    for low, high, matches in cases:
        if high < low:  # reversed: refused as malformed (IT-004) it matches nothing either
            answer = s.send("query", ISSUER_ID, start=low, end=high)
            if not answer.accepted:
                continue
            found = answer.result.get("bundles")
        else:
            found = s.accept("query", ISSUER_ID, start=low, end=high).get("bundles")
        ids = [b.get("bundle_id") for b in found] if isinstance(found, list) else None
        if ids is None or (bundle in ids) != matches:
            raise EdgeFailed(
                f"a query for production between {low} and {high} "
                + ("must return" if matches else "must not return")
                + f" the bundle produced {start}..{end}",
                expected="included" if matches else "not included",
                observed=str(ids),
                severity=MAJOR,
                requirements=("IT-003",),
            )


# ====================================================================== registration at its edges


@check("edges.devices.location_complete", requirements=["DEV-001"])
def device_location_complete(s: Session) -> None:
    """A device location needs its country and an address or both GPS coordinates: without the
    country, with neither, or with one coordinate only it is refused."""
    w = s.world()
    incomplete = (
        {"city": "Delft"},
        {"country": "NL"},
        {"country": "NL", "latitude": 52.0},
        {"country": "NL", "longitude": 4.3},
    )
    for index, location in enumerate(incomplete):
        record = device_record(
            f"DEV-LOC-{index}", f"M-LOC-{index}", w.account(w.alice), 10, "solar"
        )
        refused(s, "register_device", ISSUER_ID, f"the location {location} is incomplete",
                requirements=("DEV-001",), device={**record, "location": location})  # fmt: skip
    record = device_record("DEV-GPS", "M-GPS", w.account(w.alice), 10, "solar")
    s.accept("register_device", ISSUER_ID,
             device={**record, "location": {"country": "NL", "latitude": 52.0, "longitude": 4.3}})  # fmt: skip


@check("edges.roles.issuer_exemptions", requirements=["ROLE-001"])
def issuer_exemptions(s: Session) -> None:
    """The GC Issuer's own account must name one of the three D2 purposes: another purpose,
    or none, is refused; each of the three is accepted."""
    s.world()
    for index, exemption in enumerate(("GIFT", "own_consumption", "", None)):
        account = {"account_id": f"ACC-ISSUER-{index}", "holder_id": ISSUER_ID,
                   "account_name": "issuer's own", "exemption": exemption}  # fmt: skip
        if exemption is None:
            del account["exemption"]
        refused(s, "open_account", ISSUER_ID, f"the exemption {exemption!r} is not a D2 purpose",
                requirements=("ROLE-001",), account=account)  # fmt: skip
    for exemption in ("OWN_CONSUMPTION", "TESTING", "SUPPORT_RECOVERY"):
        s.accept("open_account", ISSUER_ID,
                 account={"account_id": f"ACC-ISSUER-{exemption}", "holder_id": ISSUER_ID,
                          "account_name": "issuer's own", "exemption": exemption})  # fmt: skip
