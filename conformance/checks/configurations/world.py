"""The configuration checks' shared world: the EAC registry beside the GC registry (EIB-T, the
production day of 2 MWh), what the suite observes of both, and the declared cap and suspension
practice."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from gc_conformance.adapter import Profile
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    AdapterError,
    NotApplicable,
    Session,
    World,
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


def capped_hours(
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


def declared_hours(
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


def mandated(s: Session, configuration: int, action: str) -> None:
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
