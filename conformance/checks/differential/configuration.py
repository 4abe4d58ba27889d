"""The configuration steps of the differential machine (#2/#3, D3): GCs linked to EACs, in lock-step.

Only the configuration checks (``differential.config2``, ``differential.config3``)
take them, each for a registry that claims its profile. Each sequence runs in a
registry reset to the configuration, with the EAC world of the configuration
checks (:func:`gc_conformance.checks.configurations.eac_world`): the EAC Issuing
Body ``EIB-T``, EAC accounts for alice, bob and (#2) the appointed GC Issuer,
DEV-WIND registered with alice and 2 MWh of EACs for the production day (see
:meth:`Lockstep.setup_eacs`). Then the machine draws, among the core operations
(at half their weight), the configuration's own:

* #2: hours linked to EACs (``issue_linked_gcs``), inside the EACs' period or
  outside it (another day, reported later or never), asking for more Wh than
  the EACs have left, for an hour already linked, through the wrong meter, by
  a party that is not the GC Issuer; linked GCs cancelled (``cancel_linked_gcs``)
  whole, in part or over-asking, by their holder or anyone else; EACs converted
  by export (``convert_eacs``, a MAY, left out when not offered) by their
  holder or not, over-asking, outside their period; and EAC moves the standard
  forbids or allows (EACs that back GCs transferred or cancelled, EACs
  transferred to the GC Issuer, free EACs transferred between holders);
* #3: EACs cancelled for a beneficiary (by their holder or not, again for
  another one), GCs issued from them (``issue_from_cancelled_eacs``) for that
  beneficiary or another, from EACs not cancelled, for an hour outside their
  period or already issued, over-asking, by a party that is not the GC Issuer;
  cancelled EACs transferred.

The ordinary issuance the core operations send (production data, issuer-created
bundles, upward corrections) must be refused or kept within the EACs
(CONF-023/024/026). Every party is tried in every role (the GC Issuer, the EAC
holder, another holder, a party with no account).

What the machine leaves out, and why: the requests of the other configuration
(CONF-011/021 are SHOULDs, and a registry that takes them issues GCs the model
cannot follow); a body that runs #1 under a mandate (CONF-010/020 need another
reset; the targeted checks judge it); downward corrections (as in the
lifecycle machine); and, once a registry reads its declared cap or suspension
practice otherwise than the model, the rest of that sequence (see
:mod:`.configuration_records`).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from gc_conformance.adapter import Answer
from gc_conformance.checks.differential.requirements import (
    ALICE,
    BENEFICIARIES,
    BOB,
    CAROL,
    METERS,
    SOLAR,
    STRANGER,
    WIND,
)
from gc_conformance.session import ISSUER_ID, Session, stamp

if TYPE_CHECKING:
    from gc_conformance.checks.differential.driver import Lockstep

#: The configuration operations of each configuration, and their weights.
CONFIG_WEIGHTS: dict[int, dict[str, int]] = {
    2: {
        "config_link": 6,
        "config_cancel_linked": 4,
        "config_convert": 2,
        "config_eac_move": 3,
        "config_report": 1,
    },
    3: {
        "config_from_cancelled": 6,
        "config_eac_cancel": 4,
        "config_eac_move": 2,
        "config_report": 1,
    },
}
#: The action each configuration operation sends (a registry without it: left out).
CONFIG_SENDS = {
    "config_link": "issue_linked_gcs",
    "config_cancel_linked": "cancel_linked_gcs",
    "config_convert": "convert_eacs",
    "config_eac_move": "eac_transfer",
    "config_report": "eac_report_production",
    "config_from_cancelled": "issue_from_cancelled_eacs",
    "config_eac_cancel": "eac_cancel",
}
#: Metered Wh for a linked hour: small, the rest of an EAC, an EAC, more than is left (2 MWh).
_HOUR_WH = [250_000, 100_000, 500_000, 1_000_000, 1_500_000, 2_500_000]
_PARTIES = (ISSUER_ID, ALICE, BOB, CAROL, STRANGER)
_EAC_ACCOUNTS = {ALICE: "E-ALICE", BOB: "E-BOB"}


def configuration_operations(s: Session, configuration: int) -> dict[str, int]:
    """The configuration operations' weights (0 for an action the registry does not offer)."""
    weights = dict(CONFIG_WEIGHTS[configuration])
    for name in weights:
        if not s.optional(CONFIG_SENDS[name]):
            weights[name] = 0
    return weights


class ConfigurationSteps:
    """The machine's configuration operations (mixed into :class:`DifferentialMachine`)."""

    if TYPE_CHECKING:  # defined by DifferentialMachine
        lock: Lockstep
        produced: list[tuple[str, str, str, str]]

        def draw(self, data: st.DataObject, choices: list[Any], label: str) -> Any: ...
        def fault(self, data: st.DataObject, *names: str) -> str: ...
        def send(self, action: str, actor: str, **fields: Any) -> Answer: ...
        def quantity(
            self, data: st.DataObject, fault: str, record: dict[str, Any] | None
        ) -> Any: ...
        def pick_bundle(
            self, data: st.DataObject, fault: str, prefer: tuple[str, ...] = ("ACTIVE",)
        ) -> tuple[Any, dict[str, Any] | None]: ...
        def pick_actor(
            self, data: st.DataObject, fault: str, record: dict[str, Any] | None
        ) -> str: ...

    # ------------------------------------------------------------------ helpers

    def hour(self, n: int, day: int = 0) -> tuple[str, str]:
        """Hour ``n`` of epoch day ``day`` (day 0: the EACs' production day)."""
        start = self.lock.s.epoch + _dt.timedelta(days=day, hours=n)
        return stamp(start), stamp(start + _dt.timedelta(hours=1))

    def model_eacs(self, *statuses: str, holder: str | None = None) -> list[dict[str, Any]]:
        """The model's EACs of ``statuses`` (held by ``holder``), in ID order."""
        registry = getattr(self.lock.model, "observe", None)
        found = list((registry() if callable(registry) else {}).get("eacs") or [])
        if holder is not None:
            found = [e for e in found if e.get("account_id") == _EAC_ACCOUNTS.get(holder)]
        return sorted((e for e in found if e.get("status") in statuses), key=lambda e: e["eac_id"])

    def eac_holder(self, eac: dict[str, Any]) -> str:
        by_account = {v: k for k, v in _EAC_ACCOUNTS.items()}
        return by_account.get(str(eac.get("account_id")), ISSUER_ID)

    def other_party(self, data: st.DataObject, allowed: tuple[str, ...]) -> str:
        return str(self.draw(data, [p for p in _PARTIES if p not in allowed], "actor"))

    def day(self, data: st.DataObject, fault: str) -> int:
        """The production day: the EACs' (0), or one before (-1, reported later or never)."""
        if fault == "other interval":
            return -1
        return int(self.draw(data, [0, 0, 0, -1], "day"))

    def record_issued(self, answer: Answer, hours: list[tuple[str, str, str]]) -> None:
        """Linked hours issued: the lifecycle's correction step may correct them."""
        if answer.accepted and int(answer.result.get("issued_wh") or 0) > 0:
            self.produced += [(WIND, start, end, energy) for start, end, energy in hours]

    # ------------------------------------------------------------------ the first issuance

    def first_linked(self, data: st.DataObject) -> None:
        """Every sequence starts with GCs linked to EACs (#2) or from cancelled EACs (#3)."""
        start, end = self.hour(self.draw(data, list(range(24)), "hour"))
        energy = str(self.draw(data, [250_000, 1_000_000, 100_000, 1_500_000], "energy"))
        if self.lock.configuration == 2:
            answer = self.send("issue_linked_gcs", ISSUER_ID, device_id=WIND,
                               meter_id=METERS[WIND], start=start, end=end, energy_wh=energy)  # fmt: skip
            self.record_issued(answer, [(start, end, energy)])
            return
        eacs = [e["eac_id"] for e in self.model_eacs("ACTIVE", holder=ALICE)][:1]
        if not eacs:
            return
        cancelled = self.send("eac_cancel", ALICE, eac_ids=eacs, beneficiary=BENEFICIARIES[0])
        if cancelled.accepted:
            answer = self.send("issue_from_cancelled_eacs", ISSUER_ID, eac_ids=eacs,
                               device_id=WIND, meter_id=METERS[WIND], start=start, end=end,
                               energy_wh=energy, beneficiary=BENEFICIARIES[0],
                               account_id="ACC-BOB")  # fmt: skip
            self.record_issued(answer, [(start, end, energy)])

    # ------------------------------------------------------------------ both configurations

    def config_report(self, data: st.DataObject) -> None:
        """The production of another day reported to the EAC body (or the same day again)."""
        day = self.draw(data, [-1, 0], "reported day")
        self.lock.report_eacs(day, compare=True)

    def config_eac_move(self, data: st.DataObject) -> None:
        """EACs transferred: free ones between holders, and ones the standard holds fast (#2:
        backing GCs, CONF-004, or to the GC Issuer, CONF-006; #3: cancelled, CONF-022)."""
        held = "BACKING_GC" if self.lock.configuration == 2 else "CANCELLED"
        fault = self.fault(data, "held", "held", "actor", "to the issuer")
        if fault == "to the issuer" and self.lock.configuration != 2:
            fault = "held"
        eacs = self.model_eacs(held if fault == "held" else "ACTIVE")
        if not eacs:
            return
        eac = self.draw(data, eacs, "EAC")
        holder = self.eac_holder(eac)
        to = "E-ISSUER" if fault == "to the issuer" else (
            "E-BOB" if holder != BOB else "E-ALICE")  # fmt: skip
        actor = self.other_party(data, (holder,)) if fault == "actor" else holder
        if fault == "held" and self.lock.configuration == 2:
            actor = self.draw(data, [ISSUER_ID, ALICE], "actor")  # the issuer holds them
            if self.draw(data, [False, True], "cancel instead"):
                self.send("eac_cancel", actor, eac_ids=[eac["eac_id"]],
                          beneficiary=BENEFICIARIES[0])  # fmt: skip
                return
        self.send("eac_transfer", actor, eac_ids=[eac["eac_id"]], to_account=to)

    # ------------------------------------------------------------------ configuration #2

    def config_link(self, data: st.DataObject) -> None:
        """An hour's GCs linked to the device's EACs (within what is left, or over-asking)."""
        fault = self.fault(data, "actor", "repeat", "meter", "other interval", "no EAC device")
        start, end = self.hour(self.draw(data, list(range(24)), "hour"), self.day(data, fault))
        linked = [(s, e) for d, s, e, _ in self.produced if d == WIND]
        if fault == "repeat" and linked:
            start, end = self.draw(data, linked, "linked hour")
        energy = str(self.draw(data, _HOUR_WH, "metered"))
        device = SOLAR if fault == "no EAC device" else WIND
        meter = METERS[SOLAR if fault in ("meter", "no EAC device") else WIND]
        actor = self.other_party(data, (ISSUER_ID,)) if fault == "actor" else ISSUER_ID
        answer = self.send("issue_linked_gcs", actor, device_id=device, meter_id=meter,
                           start=start, end=end, energy_wh=energy)  # fmt: skip
        if device == WIND:
            self.record_issued(answer, [(start, end, energy)])

    def config_cancel_linked(self, data: st.DataObject) -> None:
        """Linked GCs cancelled for a beneficiary (their EACs with them), whole, part or over."""
        fault = self.fault(data, "actor", "actor", "quantity", "bundle", "ghost")
        bundle, record = self.pick_bundle(data, fault)
        quantity = self.quantity(data, fault, record)
        fields: dict[str, Any] = {"bundle_id": bundle,
                                  "beneficiary": self.draw(data, BENEFICIARIES, "for")}  # fmt: skip
        if quantity is not None:
            fields["quantity"] = quantity
        self.send("cancel_linked_gcs", self.pick_actor(data, fault, record), **fields)

    def config_convert(self, data: st.DataObject) -> None:
        """A holder's EACs converted into GCs by export (CONF-007, a MAY), for hours of the
        EACs' period (or outside it), asking for as much as they hold or more."""
        fault = self.fault(data, "actor", "other interval", "backing", "over-ask")
        eacs = self.model_eacs("BACKING_GC" if fault == "backing" else "ACTIVE")
        if not eacs:
            return
        chosen = [self.draw(data, eacs, "EAC")]
        more = [
            e for e in eacs if e is not chosen[0] and e["account_id"] == chosen[0]["account_id"]
        ]
        if more and self.draw(data, [False, True], "two EACs"):
            chosen.append(more[0])
        holder = self.eac_holder(chosen[0])
        day = -1 if fault == "other interval" else 0
        first = self.draw(data, list(range(23)), "hour")
        face = sum(int(e.get("face_value_wh") or 0) for e in chosen)
        total = face + 1 if fault == "over-ask" else self.draw(data, [face, face // 2, 1], "Wh")
        split = self.draw(data, [1, 2], "hours")
        parts = [total] if split == 1 else [total // 2, total - total // 2]
        hours = [[*self.hour(first + n, day), str(wh)] for n, wh in enumerate(parts)]
        actor = self.other_party(data, (holder,)) if fault == "actor" else holder
        account = f"ACC-{(holder if holder in (ALICE, BOB) else ALICE).upper()}"
        answer = self.send("convert_eacs", actor, eac_ids=[e["eac_id"] for e in chosen],
                           device_id=WIND, meter_id=METERS[WIND], hours=hours,
                           account_id=account)  # fmt: skip
        self.record_issued(answer, [(h[0], h[1], h[2]) for h in hours])

    # ------------------------------------------------------------------ configuration #3

    def config_eac_cancel(self, data: st.DataObject) -> None:
        """EACs cancelled for a beneficiary by their holder (or not), or cancelled again."""
        fault = self.fault(data, "actor", "again")
        eacs = self.model_eacs("CANCELLED" if fault == "again" else "ACTIVE")
        if not eacs:
            return
        eac = self.draw(data, eacs, "EAC")
        holder = self.eac_holder(eac)
        actor = self.other_party(data, (holder,)) if fault == "actor" else holder
        self.send("eac_cancel", actor, eac_ids=[eac["eac_id"]],
                  beneficiary=self.draw(data, BENEFICIARIES, "for"))  # fmt: skip

    def config_from_cancelled(self, data: st.DataObject) -> None:
        """GCs for an hour from cancelled EACs, for their beneficiary (or not), over-asking."""
        fault = self.fault(data, "actor", "beneficiary", "not cancelled", "repeat",
                           "other interval", "meter")  # fmt: skip
        eacs = self.model_eacs("ACTIVE" if fault == "not cancelled" else "CANCELLED")
        if not eacs:
            return
        eac = self.draw(data, eacs, "EAC")
        named = str(eac.get("beneficiary") or BENEFICIARIES[0])
        if fault == "beneficiary":
            named = next(b for b in BENEFICIARIES if b != named)
        start, end = self.hour(self.draw(data, list(range(24)), "hour"), self.day(data, fault))
        issued = [(s, e) for d, s, e, _ in self.produced if d == WIND]
        if fault == "repeat" and issued:
            start, end = self.draw(data, issued, "issued hour")
        energy = str(self.draw(data, _HOUR_WH, "metered"))
        actor = self.other_party(data, (ISSUER_ID,)) if fault == "actor" else ISSUER_ID
        account = self.draw(data, ["ACC-BOB", "ACC-ALICE", "ACC-CAROL"], "account")
        answer = self.send("issue_from_cancelled_eacs", actor, eac_ids=[eac["eac_id"]],
                           device_id=WIND, meter_id=METERS[SOLAR if fault == "meter" else WIND],
                           start=start, end=end, energy_wh=energy, beneficiary=named,
                           account_id=account)  # fmt: skip
        self.record_issued(answer, [(start, end, energy)])
