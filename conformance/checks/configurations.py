"""Configuration #2 and #3 checks (profiles ``config-2`` and ``config-3``, D3 and D4 risk 6).

Both configurations put a GC registry next to an EAC registry, so every scenario
drives the two through one adapter: ``session.world(configuration=2|3)`` resets
with the EAC Issuing Body ``EIB-T``, and the EAC-side requests (``eac_*``,
``appoint_gc_issuer``) go to the EAC registry, the GC-side ones
(``issue_linked_gcs``, ``cancel_linked_gcs``, ``convert_eacs``,
``issue_from_cancelled_eacs``) to the GC registry, which consults the other.

The EAC world (:func:`eac_world`)
    The body opens EAC accounts for alice (``E-ALICE``, the producer), bob and,
    under #2, the GC Issuer (``E-ISSUER``); registers DEV-WIND with alice under
    the same meter as in the GC registry; appoints the GC Issuer (#2); and reports
    2 000 000 Wh for the production day. Whatever the EAC face value (it must
    divide 2 MWh; it is read from the number of EACs issued), the day is then
    backed by exactly 2 000 000 Wh of EACs and nothing is carried over, so every
    cap below is computed by hand from that figure.

What the suite observes
    GC bundles (quantities per device and hour, status, beneficiary, and the
    ``registry_configuration`` attribute where the registry shows it); the EAC IDs
    named in the ``eac_report_production`` result; and, where a rule lives in the
    EAC registry only, the optional ``eacs`` key of ``observe()``: a list of
    ``{"eac_id", "account_id", "status", "beneficiary", "gc_issuer_id",
    "gc_configuration", ...}``. A check that cannot see what it must verify
    without it is skipped, and says so.

Policies (capabilities ``policies``)
    ``monthly_cap`` (POOLED or WHOLE_EACS) and ``hour_suspension``
    (SUSPEND_WHOLE_HOUR, SUSPEND_UNCOVERED_PART or REFUSE) say how a registry
    handles hours whose production exceeds the EAC energy left (D3, D13). The
    SHALL checks hold whatever they are (never more GC energy than EAC energy);
    the MAY checks verify the declared practice exactly, and are skipped when
    nothing is declared.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from gc_conformance.adapter import Profile
from gc_conformance.checks import check
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    AdapterError,
    NotApplicable,
    Session,
    World,
    device_record,
)

CONFIG_2, CONFIG_3 = Profile.CONFIG_2, Profile.CONFIG_3
BODY = "EIB-T"
PERIOD_WH = 2_000_000  # EAC energy of the production day
DEVICE, METER = "DEV-WIND", "M-WIND"
ACME = "acme"  # the beneficiary named in EAC cancellations (#3)
MANDATED_BODY = {"configuration": 1, "government_mandate": True}
CAPS = ("POOLED", "WHOLE_EACS")
SUSPENSIONS = ("SUSPEND_WHOLE_HOUR", "SUSPEND_UNCOVERED_PART", "REFUSE")


@attrs.frozen
class EacWorld:
    world: World
    configuration: int
    eac_ids: tuple[Any, ...]  # the production day's EACs, in the order the registry named them
    face_wh: int
    eac_accounts: Mapping[str, str]  # holder -> EAC account

    def eacs_for(self, wh: int) -> list[Any]:
        """The first EACs whose face values add up to ``wh`` (a multiple of the face value)."""
        count = wh // self.face_wh
        if count * self.face_wh != wh or count > len(self.eac_ids):
            raise NotApplicable(f"the EAC face value ({self.face_wh} Wh) does not divide {wh} Wh")
        return list(self.eac_ids[:count])

    @property
    def alice(self) -> str:
        return self.world.alice


def production_day(s: Session, day: int = 0) -> tuple[str, str]:
    return s.hour(0, day=day)[0], s.hour(0, day=day + 1)[0]


def report(s: Session, device: str, meter: str, wh: int) -> tuple[tuple[Any, ...], int]:
    """Report ``wh`` for the production day to the EAC body: (EAC IDs, face value)."""
    start, end = production_day(s)
    result = s.accept(
        "eac_report_production",
        BODY,
        device_id=device,
        meter_id=meter,
        start=start,
        end=end,
        energy_wh=str(wh),
    )
    ids = result.get("eac_ids")
    s.expect(
        isinstance(ids, list | tuple) and len(ids) > 0,
        "an accepted EAC production report names the EACs it issued",
        expected="result.eac_ids (non-empty)",
        observed=dict(result),
    )
    assert isinstance(ids, list | tuple)
    face = wh // len(ids)
    if face * len(ids) != wh:
        raise NotApplicable(f"{len(ids)} EACs for {wh} Wh: the face value does not divide it")
    return tuple(ids), face


def eac_world(
    s: Session,
    configuration: int,
    *,
    appoint: bool = True,
    issuer_account: bool = True,
    eac_body: Mapping[str, Any] | None = None,
) -> EacWorld:
    """The standard cast in a #2/#3 registry, with DEV-WIND's production day backed by EACs."""
    w = s.world(configuration, eac_body=eac_body)
    accounts = {w.alice: "E-ALICE", w.bob: "E-BOB"}
    if configuration == 2 and issuer_account:
        accounts[ISSUER_ID] = "E-ISSUER"
    for holder, account in accounts.items():
        s.accept("eac_open_account", BODY, account_id=account, holder_id=holder)
    s.accept(
        "eac_register_device", BODY, device_id=DEVICE, account_id=accounts[w.alice], meter_id=METER
    )
    if configuration == 2 and appoint:
        s.accept("appoint_gc_issuer", BODY, gc_issuer_id=ISSUER_ID)
    ids, face = report(s, DEVICE, METER, PERIOD_WH)
    return EacWorld(w, configuration, ids, face, accounts)


# ================================================================ observation helpers


def issued_wh(s: Session, hour: int, device: str = DEVICE, day: int = 0) -> int:
    """GC Wh of ``device`` for production hour ``hour``, whatever their state."""
    start = s.hour(hour, day=day)[0]
    return sum(
        b["bundle_quantity"]
        for b in s.bundles(device_id=device, production_starting_interval=start)
    )


def eac_extension(s: Session) -> list[dict[str, Any]] | None:
    """The optional ``eacs`` key of ``observe()``, or None when the registry has none."""
    try:
        raw = s.adapter.observe()
    except Exception as exc:
        raise AdapterError(len(s.steps), f"observe failed: {type(exc).__name__}: {exc}") from exc
    found: list[dict[str, Any]] | None = s.extension_of(raw, "eacs", list)
    return found


def require_eacs(s: Session, why: str) -> dict[Any, dict[str, Any]]:
    data = eac_extension(s)
    if data is None:
        raise NotApplicable(f"observe() has no 'eacs' extension, needed to see {why}")
    return {e.get("eac_id"): e for e in data}


def refused(
    s: Session,
    codes: Iterable[str],
    action: str,
    actor: str,
    *,
    severity: Severity = Severity.CRITICAL,
    **fields: Any,
) -> str | None:
    """``Session.reject`` where the standard allows several codes; returns the code given.

    The session's atomicity snapshot includes the EACs when they are observable, so
    a refusal that changed the EAC registry fails like one that changed a GC bundle.
    """
    return s.reject(tuple(codes), action, actor, severity=severity, **fields).code


def reject_both(s: Session, code: str, action: str, actor: str, **fields: Any) -> None:
    """``Session.reject``: the GC bundles and the EACs (when observable) stay unchanged."""
    s.reject(code, action, actor, **fields)


def linked_hour(
    s: Session, hour: int, wh: int, *, device: str = DEVICE, meter: str = METER, day: int = 0
) -> dict[str, Any]:
    start, end = s.hour(hour, day=day)
    return {
        "device_id": device,
        "meter_id": meter,
        "start": start,
        "end": end,
        "energy_wh": str(wh),
    }


def cancelled_hour(
    s: Session,
    ew: EacWorld,
    eac_ids: Sequence[Any],
    hour: int,
    wh: int,
    *,
    beneficiary: str = ACME,
    device: str = DEVICE,
    meter: str = METER,
    day: int = 0,
) -> dict[str, Any]:
    start, end = s.hour(hour, day=day)
    return {
        "eac_ids": list(eac_ids),
        "device_id": device,
        "meter_id": meter,
        "start": start,
        "end": end,
        "energy_wh": str(wh),
        "beneficiary": beneficiary,
        "account_id": ew.world.account(ew.world.bob),
    }


def expected_issuance(
    hours: Sequence[int], faces: Sequence[int], cap: str, suspension: str
) -> list[int | None]:
    """GC Wh per hour under the declared practice (None: refused), by the documented rules.

    POOLED: the period's EAC energy is one pool; an hour that fits is issued in full.
    WHOLE_EACS: an hour draws whole EACs no other hour used (a part left in its last
    EAC backs nothing). An hour that does not fit gets nothing (SUSPEND_WHOLE_HOUR),
    what is left (SUSPEND_UNCOVERED_PART), or is refused and changes nothing (REFUSE).
    """
    unused = list(faces)
    left = sum(faces)
    out: list[int | None] = []
    for wh in hours:
        cover = left if cap == "POOLED" else sum(unused)
        if wh <= cover:
            issue = wh
        elif suspension == "REFUSE":
            out.append(None)
            continue
        elif suspension == "SUSPEND_UNCOVERED_PART":
            issue = cover
        else:
            issue = 0
        if cap == "POOLED":
            left -= issue
        else:
            for _ in range(math.ceil(issue / faces[0]) if issue else 0):
                unused.pop(0)
        out.append(issue)
    return out


def declared_practice(s: Session) -> tuple[str, str]:
    cap = s.policy("monthly_cap", "")
    suspension = s.policy("hour_suspension", "")
    if cap not in CAPS or suspension not in SUSPENSIONS:
        raise NotApplicable(
            "the registry declares no monthly_cap / hour_suspension practice among "
            f"{'/'.join(CAPS)} and {'/'.join(SUSPENSIONS)} (got {cap!r}, {suspension!r})"
        )
    return cap, suspension


def _capped_hours(
    s: Session, action: str, requests: Sequence[tuple[int, int, dict[str, Any]]], cap_wh: int
) -> None:
    """Send hourly issuances that together exceed ``cap_wh``; the GC energy must stay within it.

    Each request is either accepted (issuing at most its metered Wh) or refused with
    EXCEEDS_EAC_ENERGY, changing nothing; the total never exceeds the EAC energy.
    """
    total = 0
    for hour, metered, fields in requests:
        answer_code = None
        before = s.snapshot()
        answer = s.send(
            action, ISSUER_ID, expectation="accept or reject EXCEEDS_EAC_ENERGY", **fields
        )
        if not answer.accepted:
            answer_code = answer.code
            s.require_unchanged(before, f"the refused {action}")
            s.expect(
                answer_code == "EXCEEDS_EAC_ENERGY",
                f"hour {hour} may only be refused for lack of EAC energy",
                expected="accepted, or rejected EXCEEDS_EAC_ENERGY",
                observed=f"rejected {answer_code}: {answer.message}",
            )
        got = issued_wh(s, hour)
        s.expect(
            got <= metered,
            f"hour {hour}: no more GC energy than metered",
            expected=f"<= {metered}",
            observed=got,
            severity=Severity.CRITICAL,
        )
        total += got
        s.expect(
            total <= cap_wh,
            "the GC energy never exceeds the energy of the EACs behind it",
            expected=f"<= {cap_wh} Wh in total",
            observed=f"{total} Wh after hour {hour}",
            severity=Severity.CRITICAL,
        )


def _declared_hours(
    s: Session,
    action: str,
    requests: Sequence[tuple[int, int, dict[str, Any]]],
    faces: Sequence[int],
) -> None:
    cap, suspension = declared_practice(s)
    expected = expected_issuance([m for _, m, _ in requests], faces, cap, suspension)
    for (hour, _, fields), want in zip(requests, expected, strict=True):
        if want is None:
            reject_both(s, "EXCEEDS_EAC_ENERGY", action, ISSUER_ID, **fields)
            continue
        s.accept(action, ISSUER_ID, **fields)
        got = issued_wh(s, hour)
        s.expect_equal(
            got,
            want,
            f"hour {hour} gets what the declared practice ({cap}, {suspension}) gives",
            severity=Severity.MINOR,
        )


def _mandated(s: Session, configuration: int, action: str) -> None:
    ew = eac_world(s, configuration, eac_body=MANDATED_BODY)
    if configuration == 2:
        fields = linked_hour(s, 1, 600_000)
    else:
        eacs = ew.eacs_for(1_000_000)
        s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
        fields = cancelled_hour(s, ew, eacs, 1, 600_000)
    reject_both(s, "CONFIGURATION_MANDATED", action, ISSUER_ID, **fields)
    # Without the mandate, running #1 is no bar: the same request is accepted.
    ew = eac_world(s, configuration, eac_body={"configuration": 1, "government_mandate": False})
    if configuration == 3:
        eacs = ew.eacs_for(1_000_000)
        s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
        fields = cancelled_hour(s, ew, eacs, 1, 600_000)
    s.accept(action, ISSUER_ID, **fields)


# ================================================================ configuration #2


@check("config2.issuer.must_be_appointed", requirements=["CONF-001"], profile=CONFIG_2)
def issuer_must_be_appointed(s: Session) -> None:
    """A #2 GC Issuer issues only once appointed by the EAC body and holding an EAC account.

    Not appointed and without an EAC account: linked issuance and conversion are
    refused (GC_ISSUER_NOT_APPOINTED); appointed but still without an account:
    still refused; with both: accepted.
    """
    ew = eac_world(s, 2, appoint=False, issuer_account=False)
    hour = linked_hour(s, 1, 600_000)
    reject_both(s, "GC_ISSUER_NOT_APPOINTED", "issue_linked_gcs", ISSUER_ID, **hour)
    reject_both(
        s,
        "GC_ISSUER_NOT_APPOINTED",
        "convert_eacs",
        ew.alice,
        eac_ids=ew.eacs_for(1_000_000),
        device_id=DEVICE,
        meter_id=METER,
        hours=[[*s.hour(5), "600000"]],
        account_id=ew.world.account(ew.alice),
    )
    s.accept("appoint_gc_issuer", BODY, gc_issuer_id=ISSUER_ID)
    reject_both(s, "GC_ISSUER_NOT_APPOINTED", "issue_linked_gcs", ISSUER_ID, **hour)
    s.accept("eac_open_account", BODY, account_id="E-ISSUER", holder_id=ISSUER_ID)
    s.accept("issue_linked_gcs", ISSUER_ID, **hour)
    s.expect(
        issued_wh(s, 1) == 600_000,
        "the appointed issuer's hour is issued",
        expected=600_000,
        observed=issued_wh(s, 1),
    )


@check("config2.issuance.same_device_and_period", requirements=["CONF-002"], profile=CONFIG_2)
def same_device_and_period(s: Session) -> None:
    """#2 GCs come from the EAC device's own meter, for an hour inside its EAC period.

    Refused: an hour before the EAC production day (NO_UNDERLYING_EAC); DEV-SOLAR,
    unknown to the EAC body (EAC_DEVICE_MISMATCH); DEV-WIND with another meter, and
    DEV-SOLAR once registered with the EAC body under a different meter
    (METER_MISMATCH). Accepted: DEV-WIND's hour 1, issued in full and marked as
    configuration #2 where the registry shows the attribute.
    """
    ew = eac_world(s, 2)
    reject_both(
        s, "NO_UNDERLYING_EAC", "issue_linked_gcs", ISSUER_ID, **linked_hour(s, 23, 600_000, day=-1)
    )
    solar = linked_hour(s, 1, 500, device="DEV-SOLAR", meter="M-SOLAR")
    reject_both(s, "EAC_DEVICE_MISMATCH", "issue_linked_gcs", ISSUER_ID, **solar)
    reject_both(
        s,
        "METER_MISMATCH",
        "issue_linked_gcs",
        ISSUER_ID,
        **linked_hour(s, 1, 600_000, meter="M-SOLAR"),
    )
    s.accept(
        "eac_register_device",
        BODY,
        device_id="DEV-SOLAR",
        account_id=ew.eac_accounts[ew.alice],
        meter_id="M-SOLAR-EAC",
    )
    reject_both(s, "METER_MISMATCH", "issue_linked_gcs", ISSUER_ID, **solar)
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 600_000))
    bundles = s.bundles(device_id=DEVICE, production_starting_interval=s.hour(1)[0])
    s.expect(
        sum(b["bundle_quantity"] for b in bundles) == 600_000,
        "the hour inside the EAC period is issued",
        expected=600_000,
        observed=[b["bundle_quantity"] for b in bundles],
    )
    marks = {b["registry_configuration"] for b in bundles if "registry_configuration" in b}
    s.expect(marks <= {2}, "configuration #2 GCs are marked as such", expected={2}, observed=marks)


HOURS_2 = ((1, 600_000), (2, 900_000), (3, 400_000), (4, 800_000))  # 2.7 MWh against 2 MWh


@check("config2.issuance.never_exceeds_eacs", requirements=["CONF-003"], profile=CONFIG_2)
def never_exceeds_eacs_2(s: Session) -> None:
    """The #2 GC energy of the day never exceeds its 2 000 000 Wh of EACs.

    Four hours of 600 000, 900 000, 400 000 and 800 000 Wh (2 700 000 Wh metered):
    whatever the registry's cap and suspension practice, each hour is issued at
    most in full or refused for lack of EAC energy, and the day's GCs never pass
    2 000 000 Wh.
    """
    eac_world(s, 2)
    _capped_hours(
        s,
        "issue_linked_gcs",
        [(hour, wh, linked_hour(s, hour, wh)) for hour, wh in HOURS_2],
        PERIOD_WH,
    )


@check(
    "config2.issuance.declared_cap_and_suspension",
    requirements=["CONF-008"],
    profile=CONFIG_2,
)
def declared_cap_and_suspension_2(s: Session) -> None:
    """The declared monthly cap and suspension practice decide each hour's GCs exactly.

    Hours 600 000, 900 000, 400 000, 800 000 Wh against two 1 MWh EACs give
    POOLED: 600 000, 900 000, 400 000 and then 0 (whole hour suspended), 100 000
    (uncovered part suspended) or a refusal; WHOLE_EACS: 600 000 and 900 000 use
    one EAC each, so hours 3 and 4 get 0 or are refused. Other face values follow
    the same rules.
    """
    ew = eac_world(s, 2)
    _declared_hours(
        s,
        "issue_linked_gcs",
        [(hour, wh, linked_hour(s, hour, wh)) for hour, wh in HOURS_2],
        [ew.face_wh] * len(ew.eac_ids),
    )


@check("config2.issuance.hour_issued_once", requirements=["CONF-009"], profile=CONFIG_2)
def hour_issued_once_2(s: Session) -> None:
    """A device's hour is issued once (D4 risk 1), also after a suspension.

    Hour 1 (600 000 Wh) is issued; sending it again is refused
    (DUPLICATE_ISSUANCE). Hour 2 with 1 500 000 Wh exceeds the 1 400 000 Wh left;
    sending it twice never issues more than 1 500 000 Wh for it, nor more than the
    day's EACs.
    """
    eac_world(s, 2)
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 600_000))
    reject_both(
        s, "DUPLICATE_ISSUANCE", "issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 600_000)
    )
    for _ in range(2):
        s.send("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 2, 1_500_000))
        s.expect(
            issued_wh(s, 2) <= 1_500_000,
            "the hour is never issued beyond its metering",
            expected="<= 1500000",
            observed=issued_wh(s, 2),
            severity=Severity.CRITICAL,
        )
        total = issued_wh(s, 1) + issued_wh(s, 2)
        s.expect(
            total <= PERIOD_WH,
            "the day's GCs never exceed its EACs",
            expected=f"<= {PERIOD_WH}",
            observed=total,
            severity=Severity.CRITICAL,
        )


def _back_everything(s: Session) -> EacWorld:
    """#2 world whose whole EAC energy backs hour 1's GCs (2 000 000 Wh, fits any practice)."""
    ew = eac_world(s, 2)
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, PERIOD_WH))
    s.expect(
        issued_wh(s, 1) == PERIOD_WH,
        "an hour exactly covered by the EACs is issued",
        expected=PERIOD_WH,
        observed=issued_wh(s, 1),
    )
    return ew


def _holder(s: Session, ew: EacWorld, eac_id: Any) -> str | None:
    """The party holding ``eac_id`` per the ``eacs`` observation; None if not observable."""
    data = eac_extension(s)
    if data is None:
        return None
    account = {e.get("eac_id"): e.get("account_id") for e in data}.get(eac_id)
    by_account = {a: h for h, a in ew.eac_accounts.items()}
    return by_account.get(account, "") if isinstance(account, str) else ""


@check("config2.eacs.backing_eac_frozen", requirements=["CONF-004"], profile=CONFIG_2)
def backing_eac_frozen(s: Session) -> None:
    """An EAC backing #2 GCs can be neither transferred nor cancelled for anyone.

    All the day's EACs back hour 1's GCs. Transferring one to bob and cancelling it
    for bob are refused for its holder (EAC_BACKS_GC) and for anyone else
    (NOT_OWNER). Without the ``eacs`` observation the holder is unknown: both the
    producer and the GC Issuer are tried, both must be refused and at least one
    with EAC_BACKS_GC.
    """
    ew = _back_everything(s)
    eac = ew.eac_ids[0]
    holder = _holder(s, ew, eac)
    requests: tuple[tuple[str, dict[str, Any]], ...] = (
        ("eac_transfer", {"eac_ids": [eac], "to_account": ew.eac_accounts[ew.world.bob]}),
        ("eac_cancel", {"eac_ids": [eac], "beneficiary": ew.world.bob}),
    )
    for action, fields in requests:
        if holder is not None:
            if holder:
                reject_both(s, "EAC_BACKS_GC", action, holder, **fields)
            for other in (ew.alice, ISSUER_ID):
                if other != holder:
                    reject_both(s, "NOT_OWNER", action, other, **fields)
            continue
        codes = [
            refused(s, ("EAC_BACKS_GC", "NOT_OWNER"), action, actor, **fields)
            for actor in (ew.alice, ISSUER_ID)
        ]
        s.expect(
            "EAC_BACKS_GC" in codes,
            f"{action}: the holder of an EAC backing GCs is refused with EAC_BACKS_GC",
            expected="EAC_BACKS_GC for one of the producer and the GC Issuer",
            observed=codes,
            severity=Severity.MINOR,
        )
    s.expect(
        issued_wh(s, 1) == PERIOD_WH,
        "the GCs are untouched",
        expected=PERIOD_WH,
        observed=issued_wh(s, 1),
    )


@check(
    "config2.eacs.backing_eac_not_convertible",
    requirements=["CONF-004", "CONF-007"],
    profile=CONFIG_2,
)
def backing_eac_not_convertible(s: Session) -> None:
    """An EAC backing #2 GCs cannot be converted into GCs a second time by export.

    All the day's EACs back hour 1's GCs; the producer's conversion of one of them
    for hour 5 is refused and nothing changes. The code depends on where the
    registry keeps backing EACs: EAC_BACKS_GC (still the producer's), NOT_OWNER (the
    GC Issuer's) or EAC_NOT_ACTIVE (its state forbids it); the standard does not
    rank these.
    """
    ew = _back_everything(s)
    refused(
        s,
        ("EAC_BACKS_GC", "NOT_OWNER", "EAC_NOT_ACTIVE"),
        "convert_eacs",
        ew.alice,
        eac_ids=ew.eacs_for(ew.face_wh),
        device_id=DEVICE,
        meter_id=METER,
        hours=[[*s.hour(5), str(ew.face_wh)]],
        account_id=ew.world.account(ew.alice),
    )
    s.expect(
        issued_wh(s, 5) == 0,
        "no GC was made from an EAC that already backs GCs",
        expected=0,
        observed=issued_wh(s, 5),
        severity=Severity.CRITICAL,
    )


@check("config2.cancel.cancels_eacs", requirements=["CONF-005"], profile=CONFIG_2)
def cancel_cancels_eacs(s: Session) -> None:
    """Cancelling #2 GCs cancels the EACs behind them in the same step.

    Needs the ``eacs`` observation. All the day's EACs back hour 1's GCs. bob, who
    does not hold the GCs, is refused (NOT_OWNER) and no EAC changes; alice's
    cancellation of the whole bundle for bob leaves it cancelled for bob and every
    EAC cancelled (no longer active or merely backing).
    """
    ew = _back_everything(s)
    require_eacs(s, "the EACs' status")
    (bundle,) = [b["bundle_id"] for b in s.bundles(device_id=DEVICE)]
    w = ew.world
    reject_both(s, "NOT_OWNER", "cancel_linked_gcs", w.bob, bundle_id=bundle, beneficiary=w.bob)
    result = s.accept("cancel_linked_gcs", w.alice, bundle_id=bundle, beneficiary=w.bob)
    bundle_result = result.get("bundle")
    cancelled = (
        bundle_result.get("bundle_id", bundle) if isinstance(bundle_result, Mapping) else bundle
    )
    seen = s.bundle(cancelled) or {}
    s.expect(
        (seen.get("certificate_bundle_status"), seen.get("beneficiary")) == ("CANCELLED", w.bob),
        "the GCs are cancelled for the beneficiary",
        expected=("CANCELLED", w.bob),
        observed=(seen.get("certificate_bundle_status"), seen.get("beneficiary")),
    )
    eacs = require_eacs(s, "the EACs' status")
    live = {
        e: eacs.get(e, {}).get("status")
        for e in ew.eac_ids
        if "CANCEL" not in str(eacs.get(e, {}).get("status", ""))
    }
    s.expect(
        not live,
        "every EAC behind the cancelled GCs is cancelled with them",
        expected="all EACs cancelled",
        observed=live,
        severity=Severity.CRITICAL,
    )


@check("config2.cancel.plain_cancel_coordinated", requirements=["CONF-005"], profile=CONFIG_2)
def plain_cancel_coordinated(s: Session) -> None:
    """An ordinary cancel of #2 GCs may not leave their EACs live.

    A plain ``cancel`` of GCs backed by EACs is either refused (NOT_COORDINATED:
    it must go through the linked cancellation) or, where the registry links the
    two automatically, accepted with every EAC cancelled too (needs the ``eacs``
    observation to verify).
    """
    ew = _back_everything(s)
    w = ew.world
    (bundle,) = [b["bundle_id"] for b in s.bundles(device_id=DEVICE)]
    before = s.snapshot()
    answer = s.send(
        "cancel", w.alice, expectation="reject NOT_COORDINATED", bundle_id=bundle, beneficiary=w.bob
    )
    if not answer.accepted:
        s.require_unchanged(before, "the refused cancel")
        s.expect_code(answer, ("NOT_COORDINATED",), "cancel")
        return
    eacs = require_eacs(s, "whether the accepted plain cancel also cancelled the EACs")
    live = {
        e: eacs.get(e, {}).get("status")
        for e in ew.eac_ids
        if "CANCEL" not in str(eacs.get(e, {}).get("status", ""))
    }
    s.expect(
        not live,
        "a plain cancel of linked GCs also cancels their EACs",
        expected="all EACs cancelled",
        observed=live,
        severity=Severity.CRITICAL,
    )


@check("config2.eacs.issuer_holds_only_backing", requirements=["CONF-006"], profile=CONFIG_2)
def issuer_holds_only_backing(s: Session) -> None:
    """Nobody can transfer EACs to the #2 GC Issuer: it holds EACs only behind GCs.

    alice's transfer of one of her active EACs to the GC Issuer's EAC account is
    refused (ISSUER_MAY_NOT_HOLD); to bob it is accepted.
    """
    ew = eac_world(s, 2)
    eac = ew.eac_ids[0]
    reject_both(
        s,
        "ISSUER_MAY_NOT_HOLD",
        "eac_transfer",
        ew.alice,
        eac_ids=[eac],
        to_account=ew.eac_accounts[ISSUER_ID],
    )
    s.accept("eac_transfer", ew.alice, eac_ids=[eac], to_account=ew.eac_accounts[ew.world.bob])


@check("config2.convert.export", requirements=["CONF-007", "CONF-003"], profile=CONFIG_2)
def convert_by_export(s: Session) -> None:
    """EACs converted by export leave the EAC registry and become GCs for hours in their period.

    alice converts the day's 2 000 000 Wh of EACs. An hour outside the EACs' day is
    refused (OUTSIDE_EAC_PERIOD). Hours 5 (600 000 Wh) and 6 (300 000 Wh) fit under
    any cap practice (with 1 MWh EACs, one EAC each) and are issued into her GC
    account. The exported EACs can then neither be transferred
    nor cancelled nor exported again, and hour 5 cannot be issued again
    (DUPLICATE_ISSUANCE).
    """
    ew = eac_world(s, 2)
    eacs = list(ew.eac_ids)
    account = ew.world.account(ew.alice)
    base: dict[str, Any] = {
        "eac_ids": eacs,
        "device_id": DEVICE,
        "meter_id": METER,
        "account_id": account,
    }
    reject_both(
        s,
        "OUTSIDE_EAC_PERIOD",
        "convert_eacs",
        ew.alice,
        **base,
        hours=[[*s.hour(23, day=-1), "600000"]],
    )
    s.accept(
        "convert_eacs", ew.alice, **base, hours=[[*s.hour(5), "600000"], [*s.hour(6), "300000"]]
    )
    got = (issued_wh(s, 5), issued_wh(s, 6))
    s.expect(
        got == (600_000, 300_000),
        "the converted hours are issued in full",
        expected=(600_000, 300_000),
        observed=got,
    )
    mine = {b["account_id"] for b in s.bundles(device_id=DEVICE)}
    s.expect(
        mine == {account},
        "the GCs go to the converting holder's account",
        expected={account},
        observed=mine,
    )
    gone = ("NOT_OWNER", "EAC_BACKS_GC", "EAC_NOT_ACTIVE", "UNKNOWN_EAC")
    refused(
        s,
        gone,
        "eac_transfer",
        ew.alice,
        eac_ids=eacs[:1],
        to_account=ew.eac_accounts[ew.world.bob],
    )
    refused(s, gone, "eac_cancel", ew.alice, eac_ids=eacs[:1], beneficiary=ew.world.bob)
    refused(
        s,
        gone,
        "convert_eacs",
        ew.alice,
        **{**base, "eac_ids": eacs[:1]},
        hours=[[*s.hour(7), "1000"]],
    )
    reject_both(
        s, "DUPLICATE_ISSUANCE", "issue_linked_gcs", ISSUER_ID, **linked_hour(s, 5, 600_000)
    )


@check("config2.mandate.refused", requirements=["CONF-010"], profile=CONFIG_2)
def mandate_refused_2(s: Session) -> None:
    """No #2 GCs for producers of an EAC body that runs #1 under a government mandate.

    With the body running #1 by mandate, linked issuance is refused
    (CONFIGURATION_MANDATED); with the same body running #1 without a mandate, it is
    accepted. (The registry learns the body's configuration and mandate from the
    reset's ``eac_body``.)
    """
    _mandated(s, 2, "issue_linked_gcs")


@check(
    "config2.configuration.refuses_config3_requests",
    requirements=["CONF-011"],
    profile=CONFIG_2,
)
def refuses_config3_requests(s: Session) -> None:
    """A #2 registry refuses a #3 issuance (WRONG_CONFIGURATION): its GCs are all #2."""
    ew = eac_world(s, 2)
    eacs = ew.eacs_for(1_000_000)
    s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
    reject_both(
        s,
        "WRONG_CONFIGURATION",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        severity=Severity.MAJOR,
        **cancelled_hour(s, ew, eacs, 1, 600_000),
    )


# ================================================================ configuration #3


def _cancelled_world(s: Session, wh: int = 1_000_000) -> tuple[EacWorld, list[Any]]:
    """A #3 world with ``wh`` of the day's EACs cancelled by alice for acme."""
    ew = eac_world(s, 3)
    eacs = ew.eacs_for(wh)
    s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
    return ew, eacs


@check(
    "config3.issuance.only_from_cancelled_eacs",
    requirements=["CONF-012"],
    profile=CONFIG_3,
)
def only_from_cancelled_eacs(s: Session) -> None:
    """#3 GCs come only from EACs cancelled for the named beneficiary, and are cancelled for it.

    Refused: EACs still active (EAC_NOT_CANCELLED), an unknown EAC (UNKNOWN_EAC),
    EACs cancelled for acme but GCs asked for someone else (BENEFICIARY_MISMATCH).
    Accepted: 600 000 Wh for acme in hour 1, observed cancelled for acme at once.
    """
    ew = eac_world(s, 3)
    eacs = ew.eacs_for(1_000_000)
    reject_both(
        s,
        "EAC_NOT_CANCELLED",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 1, 600_000),
    )
    reject_both(
        s,
        "UNKNOWN_EAC",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, ["EAC-DOES-NOT-EXIST"], 1, 600_000),
    )
    s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
    reject_both(
        s,
        "BENEFICIARY_MISMATCH",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 1, 600_000, beneficiary=ew.world.carol),
    )
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 1, 600_000))
    bundles = s.bundles(device_id=DEVICE, production_starting_interval=s.hour(1)[0])
    got = [
        (b["bundle_quantity"], b["certificate_bundle_status"], b.get("beneficiary"))
        for b in bundles
    ]
    s.expect(
        got == [(600_000, "CANCELLED", ACME)],
        "the #3 GCs are issued already cancelled for the EACs' beneficiary",
        expected=[(600_000, "CANCELLED", ACME)],
        observed=got,
        severity=Severity.CRITICAL,
    )


@check("config3.transfer.not_transferable", requirements=["CONF-013"], profile=CONFIG_3)
def not_transferable(s: Session) -> None:
    """#3 GCs cannot change owner, in whole or in part, and are marked as configuration #3.

    The transfer is refused with NOT_TRANSFERABLE or, as #3 GCs are cancelled at
    issuance, BUNDLE_NOT_ACTIVE (both rules forbid it; the standard does not rank
    them); the GCs stay where they were issued.
    """
    ew, eacs = _cancelled_world(s)
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 1, 600_000))
    w = ew.world
    (bundle,) = s.bundles(device_id=DEVICE)
    for quantity in (None, 1000):
        extra: dict[str, Any] = {} if quantity is None else {"quantity": quantity}
        refused(
            s,
            ("NOT_TRANSFERABLE", "BUNDLE_NOT_ACTIVE"),
            "transfer",
            w.bob,
            bundle_id=bundle["bundle_id"],
            to_account=w.account(w.carol),
            **extra,
        )
    s.expect(
        s.balance(w.account(w.carol), "CANCELLED") == 0,
        "nothing reached another owner",
        expected=0,
        observed=s.balance(w.account(w.carol), "CANCELLED"),
        severity=Severity.CRITICAL,
    )
    mark = bundle.get("registry_configuration", 3)
    s.expect(mark == 3, "configuration #3 GCs are marked as such", expected=3, observed=mark)


@check("config3.eacs.one_gc_issuer", requirements=["CONF-014"], profile=CONFIG_3)
def one_gc_issuer(s: Session) -> None:
    """Each EAC behind #3 GCs records its single GC Issuer.

    Needs the ``eacs`` observation: after hour 1 is issued from acme's EACs, the EAC
    it drew on names this registry's GC Issuer (and configuration #3), and no EAC
    names another issuer.
    """
    ew, eacs = _cancelled_world(s)
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 1, 600_000))
    records = require_eacs(s, "the GC Issuer recorded against each EAC")
    linked = {
        e: (records.get(e, {}).get("gc_issuer_id"), records.get(e, {}).get("gc_configuration"))
        for e in eacs
    }
    first = linked[eacs[0]]
    s.expect(
        first == (ISSUER_ID, 3),
        "the EAC names the one GC Issuer that used it",
        expected=(ISSUER_ID, 3),
        observed=first,
        severity=Severity.CRITICAL,
    )
    s.expect(
        all(v[0] in (None, ISSUER_ID) for v in linked.values()),
        "no EAC names another GC Issuer",
        expected=ISSUER_ID,
        observed=linked,
    )


@check("config3.issuance.within_eac_period", requirements=["CONF-015"], profile=CONFIG_3)
def within_eac_period(s: Session) -> None:
    """A #3 GC's hour lies inside both the EACs' production and consumption periods.

    The EACs are cancelled for acme with consumption hours 0-6 of the production
    day. Hour 10 (produced that day, consumed outside) and an hour of the day
    before (outside production) are refused (OUTSIDE_EAC_PERIOD); hour 2 is issued.
    """
    ew = eac_world(s, 3)
    eacs = ew.eacs_for(1_000_000)
    s.accept(
        "eac_cancel",
        ew.alice,
        eac_ids=eacs,
        beneficiary=ACME,
        consumption_start=s.hour(0)[0],
        consumption_end=s.hour(6)[0],
    )
    reject_both(
        s,
        "OUTSIDE_EAC_PERIOD",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 10, 300_000),
    )
    reject_both(
        s,
        "OUTSIDE_EAC_PERIOD",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 23, 300_000, day=-1),
    )
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 2, 300_000))
    s.expect(
        issued_wh(s, 2) == 300_000,
        "the hour inside both periods is issued",
        expected=300_000,
        observed=issued_wh(s, 2),
    )


@check("config3.issuance.same_device", requirements=["CONF-016"], profile=CONFIG_3)
def same_device(s: Session) -> None:
    """#3 GCs use the metering of the device the cancelled EACs were issued for.

    A second wind park DEV-WIND-2 has its own EACs, cancelled for acme. Using them
    for DEV-WIND's hour is refused (EAC_DEVICE_MISMATCH), as is DEV-WIND-2 read
    through DEV-WIND's meter (METER_MISMATCH); DEV-WIND-2's own hour is issued.
    """
    ew = eac_world(s, 3)
    w = ew.world
    s.accept(
        "register_device",
        ISSUER_ID,
        device=device_record("DEV-WIND-2", "M-WIND-2", w.account(w.alice), 5_000_000, "wind"),
    )
    s.accept(
        "eac_register_device",
        BODY,
        device_id="DEV-WIND-2",
        account_id=ew.eac_accounts[w.alice],
        meter_id="M-WIND-2",
    )
    ids, face = report(s, "DEV-WIND-2", "M-WIND-2", PERIOD_WH)
    other = list(ids[: 1_000_000 // face])
    s.accept("eac_cancel", w.alice, eac_ids=other, beneficiary=ACME)
    reject_both(
        s,
        "EAC_DEVICE_MISMATCH",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, other, 1, 300_000),
    )
    reject_both(
        s,
        "METER_MISMATCH",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, other, 1, 300_000, device="DEV-WIND-2"),
    )
    s.accept(
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, other, 1, 300_000, device="DEV-WIND-2", meter="M-WIND-2"),
    )
    s.expect(
        (issued_wh(s, 1), issued_wh(s, 1, "DEV-WIND-2")) == (0, 300_000),
        "only the EACs' own device gets GCs",
        expected=(0, 300_000),
        observed=(issued_wh(s, 1), issued_wh(s, 1, "DEV-WIND-2")),
    )


HOURS_3 = ((1, 600_000), (2, 600_000), (3, 300_000))  # 1.5 MWh against 1 MWh of EACs


@check("config3.issuance.never_exceeds_eacs", requirements=["CONF-017"], profile=CONFIG_3)
def never_exceeds_eacs_3(s: Session) -> None:
    """#3 GCs never exceed the energy of the cancelled EACs behind them.

    1 000 000 Wh of EACs cancelled for acme against hours of 600 000, 600 000 and
    300 000 Wh: each hour is issued at most in full or refused for lack of EAC
    energy, and the GCs never pass 1 000 000 Wh.
    """
    ew, eacs = _cancelled_world(s)
    _capped_hours(
        s,
        "issue_from_cancelled_eacs",
        [(hour, wh, cancelled_hour(s, ew, eacs, hour, wh)) for hour, wh in HOURS_3],
        1_000_000,
    )


@check(
    "config3.issuance.declared_cap_and_suspension",
    requirements=["CONF-018"],
    profile=CONFIG_3,
)
def declared_cap_and_suspension_3(s: Session) -> None:
    """The declared cap and suspension practice decide each #3 hour exactly.

    With one 1 MWh EAC for acme, hours of 600 000, 600 000 and 300 000 Wh give,
    under POOLED, 600 000, then 0 / 400 000 / refused for the second hour
    (whole-hour suspension / uncovered part / refuse), and 300 000 / 0 / 300 000
    for the third (it fits the 400 000 Wh left unless the second took them). Under
    WHOLE_EACS the EAC used by hour 1 backs nothing more: 0, 0 or refused.
    """
    ew, eacs = _cancelled_world(s)
    _declared_hours(
        s,
        "issue_from_cancelled_eacs",
        [(hour, wh, cancelled_hour(s, ew, eacs, hour, wh)) for hour, wh in HOURS_3],
        [ew.face_wh] * len(eacs),
    )


@check("config3.mandate.refused", requirements=["CONF-020"], profile=CONFIG_3)
def mandate_refused_3(s: Session) -> None:
    """No #3 GCs for producers of an EAC body that runs #1 under a government mandate.

    With the mandate, the #3 issuance from EACs cancelled for acme is refused
    (CONFIGURATION_MANDATED); without it, the same issuance is accepted.
    """
    _mandated(s, 3, "issue_from_cancelled_eacs")


@check("config3.issuance.hour_issued_once", requirements=["CONF-019"], profile=CONFIG_3)
def hour_issued_once_3(s: Session) -> None:
    """A device's hour gets #3 GCs once, even from other cancelled EACs (D4 risk 1).

    Hour 1 is issued from the first 1 MWh of acme's EACs; the same hour from the
    other 1 MWh is refused (DUPLICATE_ISSUANCE).
    """
    ew, eacs = _cancelled_world(s, PERIOD_WH)
    first, second = eacs[: len(eacs) // 2], eacs[len(eacs) // 2 :]
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, first, 1, 600_000))
    reject_both(
        s,
        "DUPLICATE_ISSUANCE",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, second, 1, 600_000),
    )
    s.expect(
        issued_wh(s, 1) == 600_000,
        "the hour has one issuance",
        expected=600_000,
        observed=issued_wh(s, 1),
        severity=Severity.CRITICAL,
    )


@check(
    "config3.configuration.refuses_config2_requests",
    requirements=["CONF-021"],
    profile=CONFIG_3,
)
def refuses_config2_requests(s: Session) -> None:
    """A #3 registry refuses a #2 linked issuance (WRONG_CONFIGURATION): its GCs are all #3."""
    eac_world(s, 3)
    reject_both(
        s,
        "WRONG_CONFIGURATION",
        "issue_linked_gcs",
        ISSUER_ID,
        severity=Severity.MAJOR,
        **linked_hour(s, 1, 600_000),
    )


@check("config3.eacs.cancelled_once", requirements=["CONF-022"], profile=CONFIG_3)
def eac_cancelled_once(s: Session) -> None:
    """An EAC cancelled for acme cannot be cancelled again for someone else, nor moved.

    Cancelling it again for bob and transferring it to bob are refused
    (EAC_NOT_ACTIVE), so the GCs made from it have one beneficiary.
    """
    ew, eacs = _cancelled_world(s)
    w = ew.world
    reject_both(s, "EAC_NOT_ACTIVE", "eac_cancel", w.alice, eac_ids=eacs[:1], beneficiary=w.bob)
    reject_both(
        s,
        "EAC_NOT_ACTIVE",
        "eac_transfer",
        w.alice,
        eac_ids=eacs[:1],
        to_account=ew.eac_accounts[w.bob],
    )
