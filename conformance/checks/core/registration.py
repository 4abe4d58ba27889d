"""Registration and attributes (D2, D5, D6): accounts and devices registered as the standard asks, and every certificate carrying its attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gc_conformance.adapter import Clock
from gc_conformance.checks import check
from gc_conformance.checks.core.helpers import (
    CONSUMER,
    CRITICAL,
    DATE_PATTERN,
    IMMUTABLE_ATTRIBUTES,
    MANDATORY_ATTRIBUTES,
    MINOR,
    SOLAR,
    STAMP_PATTERN,
    WIND,
    alice_issues,
    one,
    record,
    short,
    shortlist,
)
from gc_conformance.outcomes import SkipKind
from gc_conformance.session import (
    ISSUER_ID,
    NotApplicable,
    Session,
    device_record,
)

# ====================================================================== registration (D2, D6)


@check("core.devices.registration_complete", requirements=["DEV-001"])
def registration_needs_complete_data(s: Session) -> None:
    """A device registration with D6 data missing or malformed is refused; a complete one is not."""
    w = s.world()
    complete = device_record("DEV-NEW", "M-NEW", w.account(w.alice), 2_000_000, "hydro")
    broken: list[dict[str, Any]] = [
        {k: v for k, v in complete.items() if k != "meter_id"},
        {k: v for k, v in complete.items() if k != "gross_or_net"},
        {k: v for k, v in complete.items() if k != "location"},
        {**complete, "capacity_w": 0},
        {**complete, "capacity_w": -5},
        {**complete, "device_name": ""},
        {**complete, "energy_source": ""},
        {**complete, "gross_or_net": "MAYBE"},
        {**complete, "location": {"country": ""}},
    ]
    for device in broken:
        s.reject("INVALID_FIELD", "register_device", ISSUER_ID, device=device)
    s.accept("register_device", ISSUER_ID, device=complete)


@check("core.devices.duplicate_refused", requirements=["DEV-002"])
def duplicate_device_refused(s: Session) -> None:
    """A device ID can be registered only once in the domain."""
    w = s.world()
    again = device_record(WIND, "M-OTHER", w.account(w.bob), 1_000_000, "wind")
    s.reject("DUPLICATE_DEVICE", "register_device", ISSUER_ID, device=again)


@check("core.devices.duplicate_meter_refused", requirements=["DEV-004"])
def duplicate_meter_refused(s: Session) -> None:
    """A meter already registered for one device cannot be registered for another."""
    w = s.world()
    twin = device_record("DEV-TWIN", w.meters[WIND], w.account(w.bob), 5_000_000, "wind")
    s.reject("DUPLICATE_METER_ID", "register_device", ISSUER_ID, device=twin)


@check("core.devices.unknown_account_refused", requirements=["DEV-003"])
def device_needs_account(s: Session) -> None:
    """A device can be registered only to issue into an existing account."""
    s.world()
    device = device_record("DEV-NEW", "M-NEW", "ACC-NOBODY", 1_000_000, "wind")
    s.reject("UNKNOWN_ACCOUNT", "register_device", ISSUER_ID, device=device)


@check("core.devices.operational_date_strict", requirements=["TIME-006"])
def operational_date_strict(s: Session) -> None:
    """A device's start of operation must be a real YYYY-MM-DD date."""
    w = s.world()
    device = device_record("DEV-NEW", "M-NEW", w.account(w.alice), 1_000_000, "wind")
    for bad in ("2020-02-30", "2020/01/01", "2020-1-1", "01-01-2020"):
        s.reject(
            "INVALID_DATE", "register_device", ISSUER_ID, device={**device, "operational_date": bad}
        )


@check("core.accounts.duplicate_refused", requirements=["ROLE-003"])
def duplicate_account_refused(s: Session) -> None:
    """An account ID can be opened only once."""
    w = s.world()
    s.reject(
        "DUPLICATE_ACCOUNT",
        "open_account",
        ISSUER_ID,
        account={"account_id": w.account(w.alice), "holder_id": w.carol, "account_name": "x"},
    )


@check("core.accounts.issuer_may_not_hold", requirements=["ROLE-001"])
def issuer_may_not_hold(s: Session) -> None:
    """The GC Issuer cannot open an account for itself without a D2 exempt purpose."""
    s.world()
    s.reject(
        "ISSUER_MAY_NOT_HOLD",
        "open_account",
        ISSUER_ID,
        account={"account_id": "ACC-ISSUER", "holder_id": ISSUER_ID, "account_name": "issuer"},
    )


def exempt_account(s: Session, purpose: str) -> str:
    """Open an exempt issuer account (ROLE-002, a MAY), judged by the ``exempt_accounts`` policy.

    A registry that declares the purpose must accept it; one that declares
    ``NONE`` must refuse it, as any issuer account (``ISSUER_MAY_NOT_HOLD``), and
    the check is then not applicable. Undeclared, that refusal (or
    ``INVALID_FIELD`` for the unknown ``exemption``) means "not offered"; any
    other refusal leaves ROLE-004 *not verified* rather than passed.
    """
    account = f"ACC-ISSUER-{purpose}"
    declared = s.policy("exempt_accounts", "")
    offered = {v.strip() for v in declared.split(",") if v.strip()}
    before = s.snapshot()
    answer = s.send(
        "open_account",
        ISSUER_ID,
        expectation="accept" if purpose in offered else "any",
        account={
            "account_id": account,
            "holder_id": ISSUER_ID,
            "account_name": f"issuer {purpose.lower()}",
            "exemption": purpose,
        },
    )
    if answer.accepted:
        return account
    s.require_unchanged(before, "the refused exempt account")
    s.expect(
        purpose not in offered,
        f"the registry declares exempt accounts for {purpose}, but refused one",
        expected="accepted",
        observed=f"rejected {answer.code}: {answer.message}",
    )
    if declared:
        s.expect_code(answer, ("ISSUER_MAY_NOT_HOLD",), "open_account")
        raise NotApplicable(f"the registry declares exempt_accounts={declared!r}")
    if answer.code in ("ISSUER_MAY_NOT_HOLD", "INVALID_FIELD"):
        raise NotApplicable(f"the registry offers no exempt issuer account ({answer.code})")
    raise NotApplicable(
        f"the exempt issuer account was refused with {answer.code}, which does not say the "
        "registry offers none; declare the exempt_accounts policy",
        kind=SkipKind.NOT_VERIFIED,
    )


@check("core.accounts.issuer_exempt_account", requirements=["ROLE-002"])
def issuer_exempt_account(s: Session) -> None:
    """Where offered, an exempt issuer account exists and can receive certificates."""
    w = s.world()
    account = exempt_account(s, "TESTING")
    known = [a.get("account_id") for a in s.observe()["accounts"]]
    s.expect(
        account in known,
        "the exempt account is observable",
        expected=account,
        observed=known,
        severity=MINOR,
    )
    bundle, _ = alice_issues(s, w)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=account, quantity=100)
    s.expect(
        s.balance(account) == 100,
        "the exempt account holds what was transferred to it",
        expected=100,
        observed=s.balance(account),
        severity=MINOR,
    )


@check("core.accounts.exempt_account_not_traded", requirements=["ROLE-004"])
def exempt_account_not_traded(s: Session) -> None:
    """The issuer's own-consumption certificates are never passed on nor used for others."""
    w = s.world()
    account = exempt_account(s, "OWN_CONSUMPTION")
    bundle, _ = alice_issues(s, w)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=account, quantity=200)
    held = one(s, "in the issuer's account", account_id=account)
    s.reject(
        "ISSUER_MAY_NOT_TRADE",
        "transfer",
        ISSUER_ID,
        bundle_id=held["bundle_id"],
        to_account=w.account(w.bob),
    )
    s.reject(
        "ISSUER_MAY_NOT_TRADE",
        "cancel",
        ISSUER_ID,
        bundle_id=held["bundle_id"],
        beneficiary=CONSUMER,
    )
    s.accept("cancel", ISSUER_ID, bundle_id=held["bundle_id"], beneficiary=ISSUER_ID)


@check("core.registration.holder_refused", requirements=["AUTH-007"])
def holder_cannot_administer(s: Session) -> None:
    """Holders can neither open accounts nor register devices."""
    w = s.world()
    s.reject(
        "NOT_AUTHORISED",
        "open_account",
        w.alice,
        account={"account_id": "ACC-SHADOW", "holder_id": w.alice, "account_name": "shadow"},
    )
    device = device_record("DEV-SHADOW", "M-SHADOW", w.account(w.alice), 1_000_000, "wind")
    s.reject("NOT_AUTHORISED", "register_device", w.alice, device=device)


# ====================================================================== attributes (D5)


def _fold(value: object) -> object:
    """Text compared without regard to case ("Wind" names the same source as "wind")."""
    return value.casefold() if isinstance(value, str) else value


def _missing_attributes(bundle: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in MANDATORY_ATTRIBUTES:
        value = bundle.get(key)
        if value is None or (isinstance(value, str | list | dict) and not value):
            problems.append(f"{key} missing")
    for key in ("production_starting_interval", "production_ending_interval"):
        value = bundle.get(key)
        if value is not None and not (isinstance(value, str) and STAMP_PATTERN.fullmatch(value)):
            problems.append(f"{key}={value!r} is not a strict UTC stamp")
    for key in ("issuance_datestamp", "device_production_start_date"):
        value = bundle.get(key)
        if value is not None and not (isinstance(value, str) and DATE_PATTERN.fullmatch(value)):
            problems.append(f"{key}={value!r} is not YYYY-MM-DD")
    for key in ("is_storage", "disclosure", "issuance_post_energy_carrier_conversion"):
        if key in bundle and not isinstance(bundle[key], bool):
            problems.append(f"{key}={bundle[key]!r} is not true/false")
    capacity = bundle.get("device_capacity")
    if capacity is not None and (not isinstance(capacity, int) or capacity <= 0):
        problems.append(f"device_capacity={capacity!r} is not a positive number of W")
    return problems


@check("core.attributes.mandatory_present", requirements=["ATTR-001"])
def mandatory_attributes_present(s: Session) -> None:
    """Every issued bundle states the information D5 makes mandatory."""
    w = s.world()
    for device, wh in ((WIND, 1000), (SOLAR, 400)):
        issued = record(s, s.issue(device, w.meters[device], 2, wh, account=w.account(w.alice)))
        problems = _missing_attributes(issued)
        s.expect(
            not problems,
            "an issued bundle states every mandatory D5 attribute, well formed",
            expected=", ".join(MANDATORY_ATTRIBUTES),
            observed="; ".join(problems),
        )
        # The storage and conversion tags say whether the GC was issued after release from
        # storage or after an energy carrier conversion (D5): a wind or solar device's metered
        # production was neither.
        for tag in ("is_storage", "issuance_post_energy_carrier_conversion"):
            s.expect(
                issued.get(tag) is not True,
                f"a GC issued for {device}'s own production is not tagged {tag}",
                expected=f"{tag} false",
                observed=f"{tag}={issued.get(tag)!r}",
            )


@check("core.attributes.carrier_is_electricity", requirements=["ATTR-002"])
def carrier_is_electricity(s: Session) -> None:
    """The energy carrier stated on a GC is electricity."""
    w = s.world()
    _, issued = alice_issues(s, w)
    carrier = issued.get("energy_carrier")
    s.expect(
        isinstance(carrier, str) and carrier.strip().lower() == "electricity",
        "the energy carrier is electricity",
        expected="Electricity",
        observed=carrier,
    )


@check("core.attributes.face_value_one_wh", requirements=["ATTR-003"])
def face_value_one_wh(s: Session) -> None:
    """Each certificate stands for one Wh: an issuance of N Wh holds N certificates of 1 Wh."""
    w = s.world()
    _, issued = alice_issues(s, w, 777)
    s.expect(
        (issued.get("face_value"), issued["bundle_quantity"]) == (1, 777),
        "face value 1 Wh per certificate, and as many certificates as Wh",
        expected=(1, 777),
        observed=(issued.get("face_value"), issued["bundle_quantity"]),
    )


@check("core.attributes.issuer_and_configuration", requirements=["ATTR-008"])
def issuer_and_configuration(s: Session) -> None:
    """A GC names its issuer, the issuer's country or region, and configuration #1 here."""
    w = s.world()
    _, issued = alice_issues(s, w)
    shown = (
        issued.get("issuing_body"),
        issued.get("country_of_issuance"),
        issued.get("registry_configuration"),
    )
    if not s.capabilities.reset:
        # The suite did not set the issuer up (no reset): the GC must name one, and a domain.
        s.expect(
            all(isinstance(v, str) and v.strip() for v in shown[:2])
            and shown[2] == s.configuration,
            "the GC names its issuer, the issuer's domain and the configuration",
            expected=("<issuer>", "<domain>", s.configuration),
            observed=shown,
        )
        return
    s.expect(
        shown[0] in (ISSUER_ID, "Conformance Test Issuer") and shown[1:] == ("NL", s.configuration),
        "the GC names the issuer set up for the run, its domain and the configuration",
        expected=(ISSUER_ID, "NL", s.configuration),
        observed=shown,
    )


@check("core.attributes.copied_from_device", requirements=["ATTR-007"])
def attributes_copied_from_device(s: Session) -> None:
    """The device information on a GC is what the device was registered with."""
    w = s.world()
    for device, capacity, source in ((WIND, 5_000_000, "wind"), (SOLAR, 1_000, "solar")):
        issued = record(s, s.issue(device, w.meters[device], 3, 500, account=w.account(w.alice)))
        registered = device_record(device, w.meters[device], w.account(w.alice), capacity, source)
        expected = {
            "device_id": device,
            "device_name": registered["device_name"],
            "device_capacity": capacity,
            "device_technology_type": source,
            "energy_source": source,
            "device_production_start_date": registered["operational_date"],
        }
        shown = {key: issued.get(key) for key in expected}
        s.expect(
            {k: _fold(v) for k, v in shown.items()} == {k: _fold(v) for k, v in expected.items()},
            "the GC's device attributes equal the registration data",
            expected=expected,
            observed=shown,
        )


@check("core.attributes.immutable_through_lifecycle", requirements=["ATTR-006", "ID-003"])
def attributes_immutable(s: Session) -> None:
    """Splits, transfers, cancellation and claims leave every issuance attribute as issued."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    attributes = {k: issued[k] for k in IMMUTABLE_ATTRIBUTES if k in issued}
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=300)
    at_bob = one(s, "in bob's account", account_id=w.account(w.bob))
    s.accept("cancel", w.bob, bundle_id=at_bob["bundle_id"], beneficiary=CONSUMER, quantity=100)
    cancelled = one(s, "cancelled", certificate_bundle_status="CANCELLED")
    s.accept("claim", w.bob, bundle_id=cancelled["bundle_id"], claimant=CONSUMER)
    kept = one(s, "left with alice", account_id=w.account(w.alice))
    if s.optional("reserve"):
        s.accept("reserve", w.alice, bundle_id=kept["bundle_id"], quantity=50)
    else:  # the fourth bundle by another split
        s.accept(
            "transfer",
            w.alice,
            bundle_id=kept["bundle_id"],
            to_account=w.account(w.carol),
            quantity=50,
        )
    current = s.bundles(device_id=WIND)
    s.expect(
        len(current) == 4,
        "four bundles descend from the issuance",
        expected=4,
        observed=shortlist(current),
    )
    for child in current:
        changed = {k: (v, child.get(k)) for k, v in attributes.items() if child.get(k) != v}
        s.expect(
            not changed,
            "a bundle descending from an issuance carries its attributes unchanged",
            expected=attributes,
            observed=f"{short(child)} changed {changed}",
            severity=CRITICAL,
        )


@check("core.attributes.issuance_date_stamp", requirements=["ATTR-005"])
def issuance_date_stamp(s: Session) -> None:
    """The issuance date is a strict YYYY-MM-DD stamp of the (UTC) day of issuance."""
    w = s.world()
    _, issued = alice_issues(s, w)
    stamp = issued.get("issuance_datestamp")
    s.expect(
        isinstance(stamp, str) and DATE_PATTERN.fullmatch(stamp) is not None,
        "the issuance date stamp is YYYY-MM-DD",
        expected="YYYY-MM-DD",
        observed=stamp,
    )
    if s.capabilities.clock is Clock.CONTROLLED:
        today = s.now.strftime("%Y-%m-%d")
        s.expect_equal(stamp, today, "the issuance date is the day the request was carried out")
    else:  # the registry's own clock: at least not before the production it certifies
        produced = s.hour(0)[0][:10]
        s.expect(
            isinstance(stamp, str) and stamp >= produced,
            "certificates are not issued before their production",
            expected=f">= {produced}",
            observed=stamp,
        )
