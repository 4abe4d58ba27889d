"""Configuration #2 and #3 cases (D3): a GC registry beside an EAC registry.

Each group resets with the EAC Issuing Body ``EIB-T``, opens EAC accounts,
registers DEV-WIND (meter M-WIND) with alice in the EAC registry, appoints the
GC Issuer (#2) and reports 2 000 000 Wh for the production day, which the
model issues as two 1 MWh EACs (symbols E1, E2).
"""

from __future__ import annotations

from typing import Any

from gc_conformance.vectors.catalog import (
    ALICE,
    BOB,
    BODY,
    CAST,
    ISSUER,
    WIND,
    Group,
    add,
    flag,
    reset_plain,
    standard_cast,
)
from gc_conformance.vectors.tape import Tape

AREA, ACME = "configurations", "acme"
LINKED = flag(
    "LinkedGCs",
    "Configuration #2: GCs linked to EACs of the same device and period, never more energy than "
    "the EACs, issued once per hour, by an appointed GC Issuer (CONF-001..011).",
    "The same energy is certified by a GC and left usable as an EAC: double counting across "
    "registries.",
)
CANCELLED_EACS = flag(
    "CancelledEACs",
    "Configuration #3: GCs only from EACs cancelled for a beneficiary, for that beneficiary, "
    "non-transferable, within the EAC's period and energy (CONF-012..022).",
    "GCs are made from EACs someone else may still claim, or move to a new owner.",
)
MANDATE = flag(
    "GovernmentMandate",
    "No #2/#3 GCs for producers whose EAC Issuing Body runs #1 under a government mandate "
    "(CONF-010, CONF-020).",
    "The registry offers GCs where the standard reserves issuance to the mandated body.",
)


def _eac_setup(configuration: int, *, appoint: bool = True) -> Any:
    def setup(t: Tape) -> None:
        standard_cast(t)
        accounts = {ALICE: "E-ALICE", BOB: "E-BOB"}
        if configuration == 2:
            accounts[ISSUER] = "E-ISSUER"
        for holder, account in accounts.items():
            t.send("eac_open_account", BODY, account_id=account, holder_id=holder)
        t.send("eac_register_device", BODY, device_id=WIND, account_id="E-ALICE", meter_id="M-WIND")
        if configuration == 2 and appoint:
            t.send("appoint_gc_issuer", BODY, gc_issuer_id=ISSUER)
        t.send(
            "eac_report_production",
            BODY,
            device_id=WIND,
            meter_id="M-WIND",
            start="2024-03-01T00:00:00Z",
            end="2024-03-02T00:00:00Z",
            energy_wh="2000000",
        )

    return setup


def _group(name: str, configuration: int, *, appoint: bool = True, mandate: bool = False) -> Group:
    body = {"configuration": 1, "government_mandate": True} if mandate else None
    return Group(
        name,
        "configuration_sequence",
        f"configuration #{configuration}; {CAST.description}; EAC body {BODY} with accounts "
        "E-ALICE, E-BOB"
        + (", E-ISSUER" if configuration == 2 else "")
        + "; DEV-WIND registered for EACs; 2 000 000 Wh of EACs for 2024-03-01"
        + ("; GC Issuer appointed" if configuration == 2 and appoint else "")
        + ("; the body runs #1 under a government mandate" if mandate else ""),
        reset_plain(configuration, body),
        _eac_setup(configuration, appoint=appoint),
        {"configuration": configuration, "eac_body": BODY, "government_mandate": mandate},
    )


C2 = _group("config-2", 2)
C2_UNAPPOINTED = _group("config-2-not-appointed", 2, appoint=False)
C2_MANDATE = _group("config-2-mandated-body", 2, mandate=True)
C3 = _group("config-3", 3)
C3_MANDATE = _group("config-3-mandated-body", 3, mandate=True)


def _hour(
    t: Tape, hour: int, wh: int, device: str = WIND, meter: str = "M-WIND", day: int = 0
) -> dict[str, Any]:
    start, end = t.hour(hour, day=day)
    return {
        "device_id": device,
        "meter_id": meter,
        "start": start,
        "end": end,
        "energy_wh": str(wh),
    }


def _eacs(t: Tape) -> list[Any]:
    """The production day's EACs, as the model named them in the setup."""
    return ["EIB-T-GO-00000001", "EIB-T-GO-00000002"]


def linked(t: Tape, hour: int = 1, wh: int = 600_000, **over: Any) -> dict[str, Any]:
    return t.send("issue_linked_gcs", ISSUER, **{**_hour(t, hour, wh), **over})


def first_bundle(result: dict[str, Any]) -> Any:
    bundles = result.get("bundle_ids") or [None]
    return bundles[0]


def from_cancelled(
    t: Tape, eacs: list[Any], hour: int = 1, wh: int = 600_000, beneficiary: str = ACME, **over: Any
) -> dict[str, Any]:
    fields = {
        "eac_ids": eacs,
        **_hour(t, hour, wh),
        "beneficiary": beneficiary,
        "account_id": "ACC-BOB",
        **over,
    }
    return t.send("issue_from_cancelled_eacs", ISSUER, **fields)


def _c2(
    name: str,
    comment: str,
    run: Any,
    reqs: list[str],
    group: Group = C2,
    flags: list[str] | None = None,
) -> None:
    add(AREA, group, name, comment, run, flags=flags or [LINKED], requirements=reqs)


def _c3(
    name: str,
    comment: str,
    run: Any,
    reqs: list[str],
    group: Group = C3,
    flags: list[str] | None = None,
) -> None:
    add(AREA, group, name, comment, run, flags=flags or [CANCELLED_EACS], requirements=reqs)


_c2(
    "linked-issue",
    "600 000 Wh of GCs for hour 1, backed by the day's EACs",
    lambda t: linked(t),
    ["CONF-002", "CONF-003"],
)
_c2(
    "linked-issue-twice",
    "the same hour issued twice",
    lambda t: (linked(t), linked(t, wh=100)),
    ["CONF-009"],
)
_c2(
    "linked-two-hours",
    "hours 1 and 2, 900 000 Wh each, within the EAC energy",
    lambda t: (linked(t, 1, 900_000), linked(t, 2, 900_000)),
    ["CONF-003"],
)
_c2(
    "linked-exceeds-eacs",
    "hour 2 asks for more than the EAC energy left after hour 1",
    lambda t: (linked(t, 1, 1_500_000), linked(t, 2, 1_000_000)),
    ["CONF-003", "CONF-008"],
)
_c2(
    "linked-other-device",
    "GCs for DEV-SOLAR, which has no EACs",
    lambda t: linked(t, device_id="DEV-SOLAR", meter_id="M-SOLAR", energy_wh="500"),
    ["CONF-002"],
)
_c2(
    "linked-wrong-meter",
    "GCs for DEV-WIND read from another meter",
    lambda t: linked(t, meter_id="M-SOLAR"),
    ["CONF-002"],
)


def _outside2(t: Tape) -> None:
    t.advance(days=2)
    linked(
        t, 1, 1000, **{k: v for k, v in _hour(t, 1, 1000, day=1).items() if k in ("start", "end")}
    )


_c2(
    "linked-outside-period",
    "GCs for an hour of the next day, outside the EACs' period",
    _outside2,
    ["CONF-002"],
)
_c2(
    "linked-by-holder",
    "a holder issues linked GCs",
    lambda t: t.send("issue_linked_gcs", ALICE, **_hour(t, 1, 1000)),
    ["CONF-001", "AUTH-005"],
)


def _cancel_linked(t: Tape) -> None:
    bundle = first_bundle(linked(t))
    t.send("cancel_linked_gcs", ALICE, bundle_id=bundle, beneficiary="Bob Industries")


_c2(
    "cancel-linked",
    "cancelling linked GCs cancels their EACs with them",
    _cancel_linked,
    ["CONF-005"],
)


def _plain_cancel(t: Tape) -> None:
    bundle = first_bundle(linked(t))
    t.send("cancel", ALICE, bundle_id=bundle, beneficiary="Bob Industries")


_c2("plain-cancel-linked", "a plain cancellation of linked GCs", _plain_cancel, ["CONF-005"])


def _transfer_linked(t: Tape) -> None:
    bundle = first_bundle(linked(t))
    t.send("transfer", ALICE, bundle_id=bundle, to_account="ACC-BOB")


_c2("transfer-linked", "linked GCs change hands", _transfer_linked, ["CONF-004", "XFER-002"])


for _actor in (ALICE, ISSUER):

    def _backing_transfer(t: Tape, actor: str = _actor) -> None:
        linked(t, 1, 1_500_000)
        t.send("eac_transfer", actor, eac_ids=_eacs(t)[:1], to_account="E-BOB")

    def _backing_cancel(t: Tape, actor: str = _actor) -> None:
        linked(t, 1, 1_500_000)
        t.send("eac_cancel", actor, eac_ids=_eacs(t)[:1], beneficiary=ACME)

    _who = "producer" if _actor == ALICE else "issuer"
    _c2(
        f"backing-eac-transfer-by-{_who}",
        f"the {_who} transfers an EAC that backs GCs (the model keeps backing EACs in the GC Issuer's EAC account)",
        _backing_transfer,
        ["CONF-004"],
    )
    _c2(
        f"backing-eac-cancel-by-{_who}",
        f"the {_who} cancels an EAC that backs GCs",
        _backing_cancel,
        ["CONF-004"],
    )
_c2(
    "eac-to-issuer",
    "an EAC is transferred to the GC Issuer's EAC account",
    lambda t: t.send("eac_transfer", ALICE, eac_ids=_eacs(t)[:1], to_account="E-ISSUER"),
    ["CONF-006"],
)
_c2(
    "config-3-request",
    "a configuration #3 request in a #2 registry",
    lambda t: from_cancelled(t, _eacs(t)[:1]),
    ["CONF-011"],
)
_c2(
    "unappointed-issue",
    "GCs issued before the EAC body appointed the GC Issuer",
    lambda t: linked(t),
    ["CONF-001"],
    C2_UNAPPOINTED,
)


def _appoint_then_issue(t: Tape) -> None:
    t.send("appoint_gc_issuer", BODY, gc_issuer_id=ISSUER)
    linked(t)


_c2(
    "appointed-later-issue",
    "the body appoints the GC Issuer, then GCs are issued",
    _appoint_then_issue,
    ["CONF-001"],
    C2_UNAPPOINTED,
)
_c2(
    "mandated-issue",
    "GCs for a producer whose body runs #1 under a mandate",
    lambda t: linked(t),
    ["CONF-010"],
    C2_MANDATE,
    [MANDATE],
)


def _cancelled(t: Tape, count: int = 1, beneficiary: str = ACME) -> list[Any]:
    eacs = _eacs(t)[:count]
    t.send("eac_cancel", ALICE, eac_ids=eacs, beneficiary=beneficiary)
    return eacs


_c3(
    "issue-from-cancelled",
    "600 000 Wh of GCs from one EAC cancelled for acme",
    lambda t: from_cancelled(t, _cancelled(t)),
    ["CONF-012", "CONF-017"],
)
_c3(
    "not-cancelled",
    "GCs from an EAC that was not cancelled",
    lambda t: from_cancelled(t, _eacs(t)[:1]),
    ["CONF-012"],
)
_c3(
    "other-beneficiary",
    "GCs for another beneficiary than the EAC cancellation's",
    lambda t: from_cancelled(t, _cancelled(t), beneficiary="Other Corp"),
    ["CONF-012"],
)


def _transfer3(t: Tape) -> None:
    t.send(
        "transfer",
        BOB,
        bundle_id=first_bundle(from_cancelled(t, _cancelled(t))),
        to_account="ACC-ALICE",
    )


_c3("transfer-config-3", "a configuration #3 GC is transferred", _transfer3, ["CONF-013"])


def _claim3(t: Tape) -> None:
    t.send("claim", BOB, bundle_id=first_bundle(from_cancelled(t, _cancelled(t))), claimant=ACME)


_c3(
    "claim-config-3",
    "the beneficiary's claim on configuration #3 GCs",
    _claim3,
    ["CONF-012", "CLAIM-001"],
)
_c3(
    "exceeds-cancelled",
    "more GC energy than the one cancelled EAC holds",
    lambda t: from_cancelled(t, _cancelled(t), wh=1_000_001),
    ["CONF-017", "CONF-018"],
)
_c3(
    "same-hour-twice",
    "the same hour issued twice from cancelled EACs",
    lambda t: (from_cancelled(t, _cancelled(t, 2)), from_cancelled(t, _eacs(t)[:2], wh=1000)),
    ["CONF-019"],
)
_c3(
    "other-device",
    "GCs for DEV-SOLAR from EACs of DEV-WIND",
    lambda t: from_cancelled(
        t, _cancelled(t), device_id="DEV-SOLAR", meter_id="M-SOLAR", energy_wh="500"
    ),
    ["CONF-016"],
)


def _outside3(t: Tape) -> None:
    eacs = _cancelled(t)
    t.advance(days=2)
    from_cancelled(
        t,
        eacs,
        wh=1000,
        **{k: v for k, v in _hour(t, 1, 1000, day=1).items() if k in ("start", "end")},
    )


_c3("outside-period", "GCs for an hour of the next day", _outside3, ["CONF-015"])


def _cancel_again(t: Tape) -> None:
    _cancelled(t)
    t.send("eac_cancel", ALICE, eac_ids=_eacs(t)[:1], beneficiary="Other Corp")


_c3(
    "eac-cancelled-again",
    "a cancelled EAC is cancelled again for someone else",
    _cancel_again,
    ["CONF-022"],
)


def _eac_transfer_cancelled(t: Tape) -> None:
    _cancelled(t)
    t.send("eac_transfer", ALICE, eac_ids=_eacs(t)[:1], to_account="E-BOB")


_c3(
    "eac-cancelled-transfer",
    "a cancelled EAC is transferred",
    _eac_transfer_cancelled,
    ["CONF-022"],
)
_c3(
    "config-2-request",
    "a configuration #2 request in a #3 registry",
    lambda t: linked(t),
    ["CONF-021"],
)
_c3(
    "mandated-issue",
    "#3 GCs for a producer whose body runs #1 under a mandate",
    lambda t: from_cancelled(t, _cancelled(t)),
    ["CONF-020"],
    C3_MANDATE,
    [MANDATE],
)


# ----------------------------------------------------------------------------- every path linked (issue 15)

SEALED = flag(
    "EveryPathLinked",
    "A #2/#3 registry issues GCs only through the link: an ordinary production submission or "
    "issuer-created bundle is refused (WRONG_CONFIGURATION), an upward correction is issued "
    "against the EACs like an hour (CONF-023..026).",
    "GCs are issued with no EAC behind them, beyond the EACs' energy (issue 15: 10 MWh of GCs "
    "against 2 MWh of EACs).",
)


def _ordinary_submission(t: Tape) -> None:
    t.send("submit_production", ISSUER, **_hour(t, 1, 1_500_000))


def _ordinary_bundle(t: Tape) -> None:
    fields = {k: v for k, v in _hour(t, 1, 1_500_000).items() if k != "meter_id"}
    t.send(
        "issue_bundle",
        ISSUER,
        account_id="ACC-ALICE",
        range_start=1,
        range_end=1_500_000,
        quantity=1_500_000,
        **fields,
    )


def _correct(t: Tape, wh: int, hour: int = 1) -> dict[str, Any]:
    start, end = t.hour(hour)
    return t.send(
        "correct_production", ISSUER, device_id=WIND, start=start, end=end, energy_wh=str(wh)
    )


_c2(
    "ordinary-submission",
    "a plain production submission of 1 500 000 Wh in a #2 registry",
    _ordinary_submission,
    ["CONF-023"],
    flags=[LINKED, SEALED],
)
_c2(
    "ordinary-bundle",
    "an issuer-created bundle of 1 500 000 Wh in a #2 registry",
    _ordinary_bundle,
    ["CONF-023"],
    flags=[LINKED, SEALED],
)
_c2(
    "correction-routed",
    "hour 1 issued 600 000 Wh, corrected to 900 000: the 300 000 Wh difference is linked to the "
    "same EAC",
    lambda t: (linked(t), _correct(t, 900_000)),
    ["CONF-024"],
    flags=[LINKED, SEALED],
)
_c2(
    "correction-withdraws-and-unlinks",
    "hour 1 issued 600 000 Wh, corrected to 250 000: the untouched 350 000 Wh are withdrawn",
    lambda t: (linked(t), _correct(t, 250_000)),
    ["CONF-024"],
    flags=[LINKED, SEALED],
)
_c3(
    "ordinary-submission",
    "a plain production submission in a #3 registry",
    _ordinary_submission,
    ["CONF-026"],
    flags=[CANCELLED_EACS, SEALED],
)
_c3(
    "correction-routed",
    "hour 1 issued 600 000 Wh from an EAC cancelled for acme, corrected to 900 000: the 300 000 "
    "Wh difference is issued from the same EAC and cancelled for acme at once",
    lambda t: (from_cancelled(t, _cancelled(t)), _correct(t, 900_000)),
    ["CONF-026", "CONF-012"],
    flags=[CANCELLED_EACS, SEALED],
)


def _deducted_next_day(t: Tape) -> None:
    bundle = first_bundle(linked(t))
    t.send("transfer", ALICE, bundle_id=bundle, to_account="ACC-BOB")  # no longer withdrawable
    _correct(t, 100_000)  # 500 000 Wh wrongly issued: deducted from the next hour-1 issuance
    t.advance(days=2)
    t.send(
        "eac_report_production",
        BODY,
        device_id=WIND,
        meter_id="M-WIND",
        start="2024-03-02T00:00:00Z",
        end="2024-03-03T00:00:00Z",
        energy_wh="2000000",
    )
    linked(t, **{k: v for k, v in _hour(t, 1, 600_000, day=1).items() if k in ("start", "end")})


_c2(
    "deduction-next-linked",
    "600 000 Wh issued and transferred, corrected to 100 000; the next day's hour 1 reads "
    "600 000 Wh and its linked GCs are 100 000 Wh (D10)",
    _deducted_next_day,
    ["CONF-025"],
    flags=[LINKED, SEALED],
)
