"""The Hypothesis state machine that chooses the requests, and the check that runs it against the registry."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from gc_conformance.adapter import (
    Answer,
    Clock,
    IssuanceStyle,
    Profile,
)
from gc_conformance.checks import check
from gc_conformance.checks.configurations import declared_practice
from gc_conformance.checks.differential.canonical import (
    Key,
    text,
)
from gc_conformance.checks.differential.configuration import (
    ConfigurationSteps,
    configuration_operations,
)
from gc_conformance.checks.differential.driver import (
    Lockstep,
    model_policies,
)
from gc_conformance.checks.differential.requirements import (
    ALICE,
    BENEFICIARIES,
    BOB,
    CAROL,
    DAVE,
    GHOST,
    HYDRO,
    ISSUES_INTO,
    METERS,
    MINOR,
    OTHER_ACTORS,
    SOLAR,
    STEP_COUNT,
    STRANGER,
    WIND,
    Divergence,
)
from gc_conformance.checks.differential.storage import StorageSteps, storage_operations
from gc_conformance.checks.differential.storage_records import translate_records
from gc_conformance.clock import read_stamp
from gc_conformance.reference import Policies
from gc_conformance.session import (
    ISSUER_ID,
    AdapterError,
    CheckFailed,
    CodeMismatch,
    Session,
    device_record,
    stamp,
)

# ====================================================================== the state machine

VALID = "valid"
#: Most requests are meant to be accepted; the others carry exactly one deliberate fault, so
#: that the expected refusal (and its code) is the standard's answer to that one fault.
_VALID_WEIGHT = 5

#: Readings in whole Wh (see "What the machine leaves out"), some above what the small solar
#: device can produce in less than an hour. A few values shrink and read better than a range.
_GOOD_ENERGIES = ["10", "1", "2", "3", "7", "100", "250", "501", "900"]
_BAD_ENERGIES = ["-1", "NaN", "abc", "", "1e400x", "2.5.1"]
_HOURS = [*range(24), -1, -2]  # of the production day (and of the day before)
#: Statuses from which a bundle is no longer live: acting on it is refused whatever is asked.
_ENDED = ("CANCELLED", "CLAIMED", "WITHDRAWN", "EXPIRED")


def _newest_first(bundle_id: Any) -> tuple[int, Any]:
    """Sort key: the model's (integer, increasing) bundle IDs, highest first."""
    return (0, -bundle_id) if isinstance(bundle_id, int) else (1, repr(bundle_id))


class DifferentialMachine(StorageSteps, ConfigurationSteps, RuleBasedStateMachine):
    """Random request sequences, applied to the registry and the model through :class:`Lockstep`.

    One rule, :meth:`act`, draws an operation from a weighted list built
    from the registry's capabilities (a profile's operations only when it is
    claimed, issuance in the styles offered, the clock moved only when it can
    be) and carries it out. Operations read the *model's* state to choose
    bundles, actors and quantities, so every sequence is meaningful whatever
    the registry under test does. Each request is either meant to be accepted
    or carries one deliberate fault whose refusal a SHALL of the catalogue
    requires: a stranger acting (AUTH-*), a bad quantity (QTY-*), a split
    parent or an ended bundle (DC-008, XFER-003, WDR-*), a second reading for
    an hour (DC-001), a malformed or implausible reading (PROD-*, TIME-*), ...

    What the machine leaves out, and why: behaviour the standard leaves open
    and no declared policy settles, where the model's reading would be held
    against a registry that reads the standard otherwise. Fractional readings
    (the model carries sub-Wh remainders from one reading of a device to the
    next; rounding each reading alone is a defensible reading too, and
    ``core.rounding.face_value_follows_policy`` judges rounding on first
    readings), readings of 0 Wh (refusing or accepting them are both
    right), downward corrections (which certificates are withdrawn and how a
    deduction is settled are readings of D10 beyond ``correction_deduction``),
    partial reservations, issuer locks and the issuer's own accounts (D2
    allows them, does not require them), queries of
    others' accounts (AUTH-008 is a SHOULD), and claims, withdrawals or
    releases of bundles past their validity but not yet swept (VAL-004 names
    transfer, cancellation and reservation only).

    SHOULD-level refusals (a whole or partial transfer into the holding
    account, a release of an active bundle, a reading above nameplate
    capacity) *are* sent: a registry that reads them otherwise is reported
    under that SHOULD only, and the machine carries on, checking every SHALL
    about the state that follows (see :meth:`Lockstep._should_divergence`).
    A registry that accepts a *partial* transfer into the holding account may
    split the bundle in place (the standard does not say it may not): the
    state is then judged up to that split (same certificates, account, status
    and quantity: XFER-001, DC-007) and, the model unable to follow, the rest
    of that sequence is not sent.
    """

    def __init__(self, lock: Lockstep, *, storage: bool = False) -> None:
        super().__init__()
        self.lock = lock
        self.storage = storage
        self.configuration = lock.configuration
        caps = lock.s.capabilities
        self.controlled = caps.clock is Clock.CONTROLLED
        self.from_data = IssuanceStyle.PRODUCTION_DATA in caps.issuance_styles
        issuer_created = (
            Profile.ISSUER_CREATED in caps.profiles
            and IssuanceStyle.ISSUER_CREATED in caps.issuance_styles
        )
        # Issuance first: Hypothesis favours the first choice, and sequences need certificates.
        weights: dict[str, int] = {
            "submit_production": 4 if self.from_data else 0,
            "issue_bundle": (2 if self.from_data else 5) if issuer_created else 0,
            "transfer": 4,
            "cancel": 3,
            "claim": 3,
            "reserve": 2,
            "release": 1,
            "withdraw": 2,
            "query": 1,
            "open_account": 1,
            "register_device": 1,
            "resubmit_production": 1 if self.from_data else 0,
            "correct_production": 1 if Profile.ERROR_CORRECTION in caps.profiles else 0,
            "advance_clock": 1 if self.controlled else 0,
            "expire": 1 if self.controlled and Profile.EXPIRY in caps.profiles else 0,
        }
        # An action the registry does not offer (capabilities()["actions"]) is left out of the
        # sequences instead of skipping the whole comparison: a registry without reserve and
        # release is still held to every double-counting rule through the other actions.
        sent_as = {"resubmit_production": "submit_production", "advance_clock": None}
        for name in weights:
            action = sent_as.get(name, name)
            if action is not None and weights[name] and not lock.s.optional(action):
                weights[name] = 0
        if storage:  # the storage check: the storage operations among the core ones (fewer)
            weights = {name: (weight + 1) // 2 for name, weight in weights.items()}
            weights.update(storage_operations(lock.s))
        if self.configuration in (2, 3):  # a #2/#3 check: its own operations among the core ones
            weights = {name: (weight + 1) // 2 for name, weight in weights.items()}
            weights.update(configuration_operations(lock.s, self.configuration))
            for ordinary in ("submit_production", "issue_bundle", "resubmit_production"):
                weights[ordinary] = min(weights[ordinary], 1)  # refused under #2/#3 (CONF-023/026)
        self.operations = [name for name, weight in weights.items() for _ in range(weight)]
        self.produced: list[tuple[str, str, str, str]] = []  # device, start, end, energy
        self.devices = [WIND, SOLAR]
        lock.start()
        lock.setup_cast()

    def teardown(self) -> None:
        if not self.lock.failed:
            self.lock.check_history()

    @initialize(data=st.data())
    def first_issuance(self, data: st.DataObject) -> None:
        """Every sequence starts with certificates to act on."""
        if self.configuration in (2, 3):
            self.first_linked(data)
            return
        start, end = self.interval(self.draw(data, list(range(24)), "hour"))
        energy = self.draw(data, ["10", "1", "2", "3", "100", "900"], "energy")
        if self.from_data:
            self.issue("submit_production", self.production(WIND, start, end, energy))
        else:
            self.issue("issue_bundle", self.asserted(WIND, start, end, energy, int(energy)))
        if self.storage:
            self.commission_storage(data)

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        operation = self.draw(data, self.operations, "operation")
        getattr(self, operation)(data)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def draw(data: st.DataObject, choices: list[Any], label: str) -> Any:
        return data.draw(st.sampled_from(choices), label=label)

    def fault(self, data: st.DataObject, *names: str) -> str:
        """``valid`` mostly, else one of ``names``: the request's one deliberate fault."""
        return str(self.draw(data, [VALID] * _VALID_WEIGHT + list(names), "fault"))

    def send(self, action: str, actor: str, **fields: Any) -> Answer:
        if self.lock.parted is not None:  # the model cannot follow the registry any further
            return Answer(False, code="NOT_SENT", message=self.lock.parted)
        return self.lock.step(action, actor, **fields)[0]

    def interval(self, hour: int, minutes: int = 60) -> tuple[str, str]:
        """``minutes`` from hour ``hour`` of the day before the clock's day (the production day).

        Production follows the clock, so that issuance stays possible after the
        clock has moved past the validity of earlier certificates.
        """
        today = self.lock.s.now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - _dt.timedelta(days=1) + _dt.timedelta(hours=hour)
        return stamp(start), stamp(start + _dt.timedelta(minutes=minutes))

    def still_valid(self, record: Mapping[str, Any]) -> bool:
        """Whether the bundle's validity (under the declared policy) has not ended at ``now``."""
        policies = getattr(self.lock.model, "policies", None)
        end = record.get("production_ending_interval")
        if not isinstance(policies, Policies) or not isinstance(end, str):
            return True
        ended = read_stamp(end)
        return self.lock.s.now < policies.own_hour_use.bounds(policies.validity, ended)[0]

    def pick_bundle(
        self,
        data: st.DataObject,
        fault: str,
        prefer: tuple[str, ...] = ("ACTIVE",),
        *,
        valid_only: bool = False,
        wrong: tuple[str, ...] = ("ACTIVE", "RESERVED", "LOCKED", *_ENDED),
    ) -> tuple[Any, dict[str, Any] | None]:
        """A current bundle of a ``prefer`` status; under the ``bundle`` fault, one of a
        ``wrong`` status or a split parent; under ``ghost``, one that never existed.

        ``valid_only`` leaves out bundles past their validity that the sweep has
        not marked ``EXPIRED`` (see the class docstring).
        """
        if fault == "ghost":
            return GHOST, None
        # Newest first: the first choice, which Hypothesis favours, is the latest bundle.
        current = sorted(self.lock.model_bundles(), key=lambda b: _newest_first(b["bundle_id"]))
        if valid_only:
            current = [
                b
                for b in current
                if b["certificate_bundle_status"] == "EXPIRED" or self.still_valid(b)
            ]
        if fault == "bundle":
            wanted, extra = wrong, [b for b in self.lock.ever_seen() if b not in self.current_ids()]
        else:
            wanted, extra = prefer, []
        choices = [b["bundle_id"] for b in current if b["certificate_bundle_status"] in wanted]
        choices += sorted(extra, key=_newest_first)
        if not choices:
            return GHOST, None
        chosen = self.draw(data, choices, "bundle")
        record = next((b for b in current if b["bundle_id"] == chosen), None)
        return chosen, record

    def current_ids(self) -> set[Any]:
        return {b["bundle_id"] for b in self.lock.model_bundles()}

    def pick_actor(
        self,
        data: st.DataObject,
        fault: str,
        record: Mapping[str, Any] | None,
        others: tuple[str, ...] = tuple(OTHER_ACTORS),
    ) -> str:
        """The holder of the bundle; under the ``actor`` fault, one of ``others``."""
        holder = ALICE
        if record is not None:
            holder = self.lock.holders().get(text(record.get("account_id")), ALICE)
        if fault != "actor":
            return holder
        return str(self.draw(data, [a for a in others if a != holder] or [STRANGER], "actor"))

    def quantity(self, data: st.DataObject, fault: str, record: Mapping[str, Any] | None) -> Any:
        """None (the whole bundle) or a part of it; under the ``quantity`` fault, a bad one."""
        held = 0 if record is None else int(record["bundle_quantity"])
        if fault == "quantity":
            bad = {"zero": 0, "negative": -1 - held // 3, "fraction": 2.5, "too many": held + 1}
            return bad[self.draw(data, ["zero", *bad], "bad quantity")]
        kind = self.draw(data, ["whole", "whole", "part", "part", "one", "all"], "quantity")
        if kind == "part" and held > 2:
            parts = sorted({1, 2, held // 3, held // 2, held - 1} - {0, held})
            return self.draw(data, parts, "part")
        return {"whole": None, "part": None, "one": 1, "all": max(1, held)}[kind]

    @staticmethod
    def with_quantity(quantity: Any, **fields: Any) -> dict[str, Any]:
        if quantity is not None:
            fields["quantity"] = quantity
        return fields

    def issue(self, action: str, fields: dict[str, Any]) -> None:
        answer = self.send(action, str(fields.pop("actor")), **fields)
        if answer.accepted:
            reading = (fields["device_id"], fields["start"], fields["end"], fields["energy_wh"])
            self.produced.append(reading)

    def production(self, device: str, start: str, end: str, energy: str) -> dict[str, Any]:
        return {"actor": ISSUER_ID, "device_id": device, "meter_id": METERS.get(device, "M-NOPE"),
                "start": start, "end": end, "energy_wh": energy}  # fmt: skip

    def asserted(
        self, device: str, start: str, end: str, energy: str, quantity: int, overlap: int = 0
    ) -> dict[str, Any]:
        """An issuer-created bundle from the next free certificate ID (``overlap`` IDs back)."""
        first, agree = self.lock.next_free_certificate()
        # Overlaps are provoked only while both registries have issued the same IDs.
        first -= overlap if agree else 0
        return {"actor": ISSUER_ID, "device_id": device,
                "account_id": ISSUES_INTO.get(device, "ACC-ALICE"), "start": start, "end": end,
                "range_start": first, "range_end": first + quantity - 1, "quantity": quantity,
                "energy_wh": energy}  # fmt: skip

    # ------------------------------------------------------------------ issuance

    def submit_production(self, data: st.DataObject) -> None:
        fault = self.fault(data, "meter", "gross", "61 minutes", "no time", "future",
                           "unknown device", "not issuer", "bad energy", "too much")  # fmt: skip
        device = self.draw(data, self.devices, "device")
        hour = self.draw(data, _HOURS, "hour")
        minutes = self.draw(data, [60, 60, 60, 30, 15], "minutes")
        if fault == "future" and self.controlled:
            hour = 24 + self.lock.s.now.hour  # from the clock's own hour: not ended yet
        start, end = self.interval(hour, {"61 minutes": 61, "no time": 0}.get(fault, minutes))
        energy = self.draw(data, _GOOD_ENERGIES, "energy")
        if fault == "bad energy":
            energy = self.draw(data, _BAD_ENERGIES, "bad energy")
        if fault == "too much":
            energy = "6000000"  # above even the wind park's 5 MW for an hour
        named = "DEV-NOPE" if fault == "unknown device" else device
        fields = self.production(named, start, end, energy)
        if fault == "meter":
            fields["meter_id"] = METERS[SOLAR if device != SOLAR else WIND]
        if fault == "gross":
            fields["gross_or_net"] = "GROSS"
        if fault == "not issuer":
            fields["actor"] = self.draw(data, [ALICE, STRANGER], "actor")
        self.issue("submit_production", fields)

    def resubmit_production(self, data: st.DataObject) -> None:
        """D4 double issuance: the same reading again, or another value for the same interval."""
        if not self.produced:
            return self.submit_production(data)
        device, start, end, first = self.draw(data, self.produced, "reading")
        energy = self.draw(data, [first, *_GOOD_ENERGIES], "energy")
        fields = self.production(device, start, end, energy)
        self.send("submit_production", str(fields.pop("actor")), **fields)
        return None

    def issue_bundle(self, data: st.DataObject) -> None:
        fault = self.fault(data, "overlap", "range length", "more than produced", "zero",
                           "other account", "not issuer", "bad energy")  # fmt: skip
        device = self.draw(data, self.devices, "device")
        start, end = self.interval(self.draw(data, _HOURS, "hour"))
        energy = int(self.draw(data, _GOOD_ENERGIES, "energy"))
        quantity = {"more than produced": energy + 1, "zero": 0}.get(fault, energy)
        overlap = self.draw(data, [1, 2, 3], "overlap") if fault == "overlap" else 0
        text = (
            self.draw(data, _BAD_ENERGIES, "bad energy") if fault == "bad energy" else str(energy)
        )
        fields = self.asserted(device, start, end, text, quantity, overlap)
        if fault == "range length":
            fields["range_end"] += 1
        if fault == "other account":
            fields["account_id"] = "ACC-CAROL"
        if fault == "not issuer":
            fields["actor"] = ALICE
        self.issue("issue_bundle", fields)

    def correct_production(self, data: st.DataObject) -> None:
        """D10: a higher corrected reading for issued production (see the class docstring)."""
        fault = self.fault(data, "never produced", "not issuer", "bad energy", "unchanged")
        if fault == "never produced" or not self.produced:
            device, start, end, first = (WIND, *self.interval(23, 30), "1")
        else:
            device, start, end, first = self.draw(data, self.produced, "reading")
        energy = str(int(first) + int(self.draw(data, [1, 10, 100], "more")))
        if fault == "bad energy":
            energy = self.draw(data, _BAD_ENERGIES, "bad energy")
        if fault == "unchanged":
            energy = first
        actor = BOB if fault == "not issuer" else ISSUER_ID
        answer = self.send(
            "correct_production", actor, device_id=device, start=start, end=end, energy_wh=energy
        )
        if answer.accepted:
            self.produced = [
                (d, s, e, energy if (d, s, e) == (device, start, end) else v)
                for d, s, e, v in self.produced
            ]

    # ------------------------------------------------------------------ time

    def advance_clock(self, data: st.DataObject) -> None:
        self.lock.s.advance(hours=self.draw(data, [1, 0, 2, 6, 24, 48], "hours"))

    def expire(self, data: st.DataObject) -> None:
        """The expiry sweep, after moving the clock (sometimes past the certificates' validity)."""
        self.lock.s.advance(days=self.draw(data, [0, 0, 0, 0, 1, 30, 120, 300, 400], "days"))
        self.send("expire", BOB if self.fault(data, "not issuer") != VALID else ISSUER_ID)

    # ------------------------------------------------------------------ accounts and devices

    def open_account(self, data: st.DataObject) -> None:
        fault = self.fault(data, "duplicate", "not issuer", "for the issuer")
        record = {"account_id": "ACC-DAVE", "holder_id": DAVE, "account_name": DAVE}
        if fault == "duplicate":
            record["account_id"] = "ACC-ALICE"
        if fault == "for the issuer":  # with no D2 exemption named: refused (ROLE-001)
            record = {"account_id": "ACC-ISSUER", "holder_id": ISSUER_ID, "account_name": "own"}
        self.send("open_account", ALICE if fault == "not issuer" else ISSUER_ID, account=record)

    def register_device(self, data: st.DataObject) -> None:
        fault = self.fault(data, "duplicate device", "duplicate meter", "unknown account",
                           "not issuer")  # fmt: skip
        device = WIND if fault == "duplicate device" else HYDRO
        meter = METERS[WIND] if fault == "duplicate meter" else METERS[HYDRO]
        account = "ACC-NOWHERE" if fault == "unknown account" else ISSUES_INTO[HYDRO]
        answer = self.send(
            "register_device",
            BOB if fault == "not issuer" else ISSUER_ID,
            device=device_record(device, meter, account, 2_000, "hydro"),
        )
        if answer.accepted and device not in self.devices:
            self.devices.append(device)

    # ------------------------------------------------------------------ lifecycle

    def transfer(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "actor", "quantity", "quantity", "bundle", "ghost",
                           "unknown account", "same account")  # fmt: skip
        bundle, record = self.pick_bundle(data, fault)
        source = text(record.get("account_id")) if record else ""
        targets = [a for a in sorted(self.lock.holders()) if a != source] or ["ACC-BOB"]
        to = "ACC-NOWHERE" if fault == "unknown account" else self.draw(data, targets, "to")
        if fault == "same account" and source:
            to = source  # whole or partial (see the class docstring)
        quantity = self.quantity(data, "" if fault == "same account" else fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, to_account=to)
        self.send("transfer", self.pick_actor(data, fault, record), **fields)

    def cancel(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "actor", "quantity", "quantity", "bundle", "ghost",
                           "no beneficiary", "storage purpose")  # fmt: skip
        bundle, record = self.pick_bundle(data, fault)
        beneficiary = "" if fault == "no beneficiary" else self.draw(data, BENEFICIARIES, "for")
        quantity = self.quantity(data, fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, beneficiary=beneficiary)
        if fault == "storage purpose":
            fields["purpose"] = "STORAGE_CHARGE"
        self.send("cancel", self.pick_actor(data, fault, record), **fields)

    def claim(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "quantity", "bundle", "other claimant", "other claimant")
        bundle, record = self.pick_bundle(
            data, fault, ("CANCELLED",), valid_only=True,
            wrong=("ACTIVE", "RESERVED", "LOCKED", "CLAIMED", "WITHDRAWN"),
        )  # fmt: skip
        named = text(record.get("beneficiary")) if record else ""
        claimant = named or BENEFICIARIES[0]
        if fault == "other claimant":
            claimant = next(b for b in BENEFICIARIES if b != named)
        quantity = self.quantity(data, fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, claimant=claimant)
        self.send("claim", self.pick_actor(data, fault, record), **fields)

    def reserve(self, data: st.DataObject) -> None:
        """A holder reserves or locks a whole bundle (see the class docstring on parts)."""
        fault = self.fault(data, "actor", "actor", "bundle", "ghost")
        bundle, record = self.pick_bundle(data, fault)
        kind = self.draw(data, ["RESERVED", "LOCKED"], "kind")
        others = tuple(a for a in OTHER_ACTORS if a != ISSUER_ID)  # the issuer may lock
        actor = self.pick_actor(data, fault, record, others)
        self.send("reserve", actor, bundle_id=bundle, kind=kind)

    def release(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "bundle", "ghost", "active")
        wrong = ("ACTIVE",) if fault == "active" else _ENDED
        bundle, record = self.pick_bundle(
            data,
            "bundle" if fault == "active" else fault,
            ("RESERVED", "LOCKED"),
            valid_only=True,
            wrong=wrong,
        )
        others = tuple(a for a in OTHER_ACTORS if a != ISSUER_ID)
        self.send("release", self.pick_actor(data, fault, record, others), bundle_id=bundle)

    def withdraw(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "actor", "quantity", "bundle", "ghost")
        bundle, record = self.pick_bundle(
            data, fault, ("ACTIVE",), valid_only=True, wrong=("CANCELLED", "CLAIMED", "WITHDRAWN")
        )
        quantity = self.quantity(data, fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, reason="metering error")
        holders = (ALICE, BOB, CAROL, STRANGER)  # only the issuer withdraws (AUTH-006)
        actor = self.pick_actor(data, fault, record, holders) if fault == "actor" else ISSUER_ID
        self.send("withdraw", actor, **fields)

    def query(self, data: st.DataObject) -> None:
        """The issuer's view of any filter, or a holder's view of its own account (IT-003)."""
        account = self.draw(data, [None, "ACC-ALICE", "ACC-BOB", "ACC-CAROL"], "account")
        actor = ISSUER_ID
        if account is not None and self.draw(data, [False, True], "as holder"):
            actor = self.lock.holders().get(account, ISSUER_ID)
        filters = {
            "account_id": account,
            "status": self.draw(data, [None, None, "ACTIVE", "CANCELLED"], "status"),
            "device_id": self.draw(data, [None, None, WIND], "device"),
        }
        self.send("query", actor, **{k: v for k, v in filters.items() if v is not None})


#: How a bundle is recognised again in a shortened sequence, from the strictest likeness.
_LIKENESS: tuple[Callable[[Key, Key], bool], ...] = (
    lambda a, b: a == b,
    lambda a, b: (a[:3], a[6:8]) == (b[:3], b[6:8]),  # same issuance interval, account, status
    lambda a, b: a[6:8] == b[6:8],  # same account and status
    lambda a, b: a[7] == b[7],  # same status
)


class Differential:
    """One differential run: the machine under the session's seed and depth."""

    def __init__(self, s: Session, *, storage: bool = False, configuration: int = 1) -> None:
        self.s = s
        self.storage = storage
        self.configuration = configuration
        self.policies = model_policies(s.capabilities)

    def lockstep(self, on_code_mismatch: str) -> Lockstep:
        from gc_conformance.adapters.reference import ReferenceAdapter

        return Lockstep(
            self.s,
            ReferenceAdapter(self.policies),
            on_code_mismatch=on_code_mismatch,
            configuration=self.configuration,
        )

    def settings(self) -> hypothesis.settings:
        """Generation only (see the module docstring on shrinking), seeded, quiet, no database."""
        examples = self.s.max_examples
        if self.storage:
            # A storage sequence sends about twice the requests of a lifecycle one (a cycle is
            # six): half the examples keep the run's depth, counted in requests, and its time.
            examples = max(1, examples // 2)
        elif self.configuration != 1:
            # A #2/#3 sequence starts with eleven setup requests and observes the EACs after
            # every step: a third of the examples adds about as much time as the storage
            # check (measured: 60 examples -> 20 sequences, about 1.8 s each configuration).
            examples = max(1, examples // 3)
        return hypothesis.settings(
            max_examples=examples,
            stateful_step_count=STEP_COUNT,
            derandomize=False,  # the seed below decides
            database=None,
            deadline=None,
            verbosity=Verbosity.quiet,
            report_multiple_bugs=False,
            print_blob=False,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )

    def explore(self, on_code_mismatch: str) -> Lockstep:
        """Run the machine; a failure propagates, on the sequence :meth:`minimise` leaves."""
        lock = self.lockstep(on_code_mismatch)

        def factory() -> DifferentialMachine:
            return DifferentialMachine(lock, storage=self.storage)

        seeded: Callable[[], DifferentialMachine] = hypothesis.seed(self.s.seed)(factory)
        try:
            run_state_machine_as_test(seeded, settings=self.settings())  # type: ignore[arg-type]
        except Flaky as exc:
            raise AdapterError(
                len(self.s.steps),
                "the registry answered the same request sequence differently when it was "
                f"replayed (non-deterministic behaviour; seed {self.s.seed}): {exc}",
            ) from exc
        except (CheckFailed, AdapterError) as exc:
            raise self.minimise(lock, exc) from None
        return lock

    def minimise(self, lock: Lockstep, failure: Exception) -> Exception:
        """Drop every request the failure does not need; the failure of the shortest sequence.

        The failing sequence Hypothesis generated is shortened request by
        request (see the module docstring for why not by Hypothesis's
        shrinker): each request after the cast's setup is left out in turn,
        from the last, and stays out when the shorter sequence, replayed
        against both registries, still fails the same way: a wrong code stays
        a wrong code, a wrong verdict or state stays one (of any kind), an
        adapter failure stays one. Passes repeat until none is left out. It is
        deterministic, and the session's steps are those of the final replay.
        """
        setup = lock.setup_count  # the cast (and the EAC world of #2/#3)
        records = dict(lock.record_starts)  # the failing sequence's storage records
        kept = list(zip([dict(r) for r in lock.trail], lock.trail_keys, strict=True))
        if len(kept) <= setup:
            return failure
        kind = type(failure)
        best = failure
        changed = True
        while changed:
            changed = False
            for index in range(len(kept) - 1, setup - 1, -1):
                if index >= len(kept):
                    continue
                candidate = kept[:index] + kept[index + 1 :]
                try:
                    lock.run_sequence(self._resolved(lock, candidate, records))
                except (CheckFailed, AdapterError) as exc:
                    if type(exc) is kind:
                        kept, best, changed = candidate, exc, True
        try:
            # The session's steps: those of the reported sequence.
            lock.run_sequence(self._resolved(lock, kept, records))
        except (CheckFailed, AdapterError) as exc:
            return exc
        return AdapterError(  # the same requests failed a moment ago: the registry is erratic
            len(self.s.steps),
            "the registry answered the same request sequence differently when it was replayed "
            f"(non-deterministic behaviour; seed {self.s.seed}); the earlier failure: {best}",
        )

    @staticmethod
    def _resolved(
        lock: Lockstep,
        entries: list[tuple[dict[str, Any], tuple[Key, bool] | None]],
        records: Mapping[Any, tuple[str, str]],
    ) -> Iterator[dict[str, Any]]:
        """The requests, each naming the model bundle that now fits its canonical description.

        Leaving out a request that created or moved bundles renumbers or moves
        the model's later bundles; a request then names its bundle by what it
        was (the same bundle, else the newest one alike: same issuance and
        holding, same holding, same status), and a request its holder made is
        made by the bundle's holder now; a storage record, by its status and
        interval. Only the requests the failure needs
        stay; the reported sequence is replayed as it is, so these guesses can
        make it longer than necessary, never wrong.
        """
        for request, named in entries:
            # A storage record is the one of the same status and interval (leaving out an
            # earlier record renumbers the model's later ones).
            now = {where: found for found, where in lock.record_starts.items()}
            renamed = {old: now[where] for old, where in records.items() if where in now}
            request = translate_records(renamed, request)
            if named is not None:
                key, by_holder = named
                current = sorted(lock.model_keys.values(), key=lambda item: _newest_first(item[0]))
                for same in _LIKENESS:  # exactly the same bundle, else the newest alike
                    matches = [(found, k) for found, k in current if same(k, key)]
                    if matches:
                        request = {**request, "bundle_id": matches[0][0]}
                        holder = lock.holders().get(matches[0][1][6])
                        if by_holder and holder:
                            request["actor"] = holder
                        break
            yield request

    def run(self) -> None:
        """Verdicts and states first; code mismatches only when nothing worse diverges.

        Code mismatches are collected, not raised, in the first exploration, so
        that a refusal with the wrong code can never hide (by being shrunk
        and reported first) a verdict or state divergence. Under strict codes
        a second exploration then raises the first code mismatch, shrunk.
        """
        lock = self.explore("record")
        notes = list(lock.notes.values())
        if notes and self.s.strict_codes:
            self.explore("raise")
            raise CodeMismatch(  # the mismatch did not recur: report what was collected
                f"refusals with other canonical codes than the reference model's "
                f"(differential, seed {self.s.seed})",
                expected="the model's codes",
                observed="; ".join(notes),
                severity=MINOR,
            )
        self.s.code_mismatches.extend(notes)
        self.s.steps.clear()  # a passing run's last random sequence means nothing in a report
        if lock.should:
            # Every SHALL held, the SHOULD divergences included (the machine carried on after
            # each): report them under their SHOULD requirements only, never a SHALL's.
            found = list(lock.should.values())
            raise Divergence(
                "the registry reads some SHOULD rules otherwise than the reference model "
                f"(differential, seed {self.s.seed}); every SHALL held",
                expected="the model's verdicts on SHOULD rules",
                observed="; ".join(text for text, _ in found),
                severity=MINOR,
                requirements=tuple(sorted({r for _, rs in found for r in rs})),
            )


@check(
    "differential.lifecycle",
    requirements=[
        "SPLIT-001",
        "SPLIT-002",
        "AUTH-001",
        "AUTH-002",
        "AUTH-003",
        "AUTH-004",
        "DC-001",
        "DC-002",
        "DC-003",
        "DC-004",
        "DC-005",
        "DC-006",
        "DC-007",
        "DC-008",
        "QTY-001",
        "QTY-002",
        "IT-001",
        "IT-002",
    ],
    slow=True,
)
def lifecycle_matches_the_reference_model(s: Session) -> None:
    """Random valid and invalid request sequences get the reference model's verdicts, codes and states."""
    Differential(s).run()


@check(
    "differential.storage",
    requirements=[
        "STOR-002",
        "STOR-004",
        "STOR-005",
        "STOR-006",
        "STOR-008",
        "STOR-009",
        "STOR-010",
        "STOR-011",
        "STOR-012",
        "STOR-017",
        "STOR-018",
        "STOR-019",
        "STOR-020",
        "STOR-021",
        "STOR-022",
        "STOR-023",
        "STOR-024",
        "STOR-025",
        "STOR-027",
        "STOR-029",
        "STOR-030",
        "DC-004",
        "DC-007",
    ],
    profile=Profile.STORAGE,
    slow=True,
)
def storage_matches_the_reference_model(s: Session) -> None:
    """Random storage request sequences (D7) get the reference model's verdicts, allocations and states.

    The lifecycle machine with a storage system beside the cast (see
    :mod:`gc_conformance.checks.differential.storage`): charges, discharges,
    GCs cancelled for charging, allocations by the registry's declared method,
    SD-GCs and time-shift claims, valid and over-asking, by every party.
    """
    s.require_action("register_storage")
    s.require_action("submit_storage_data")
    Differential(s, storage=True).run()


_CONFIG_REQUIREMENTS = {
    2: ["CONF-001", "CONF-002", "CONF-003", "CONF-004", "CONF-005", "CONF-006", "CONF-007",
        "CONF-008", "CONF-009", "CONF-023", "CONF-024"],
    3: ["CONF-012", "CONF-013", "CONF-014", "CONF-015", "CONF-016", "CONF-017", "CONF-018",
        "CONF-019", "CONF-022", "CONF-026"],
}  # fmt: skip


def _configuration_run(s: Session, configuration: int) -> None:
    """The #2/#3 machine: needs reset (to the configuration) and the declared practice."""
    s.require_reset(f"configuration #{configuration} is set up by reset()")
    declared_practice(s)  # the model applies it: a registry that declares none is skipped
    for action in ("eac_report_production", "eac_open_account", "eac_register_device"):
        s.require_action(action)
    if configuration == 2:
        s.require_action("appoint_gc_issuer")
        s.require_action("issue_linked_gcs")
    else:
        s.require_action("eac_cancel")
        s.require_action("issue_from_cancelled_eacs")
    Differential(s, configuration=configuration).run()


@check(
    "differential.config2",
    requirements=[
        *_CONFIG_REQUIREMENTS[2],
        "AUTH-001",
        "AUTH-002",
        "AUTH-005",
        "DC-001",
        "DC-004",
        "DC-007",
        "QTY-002",
    ],
    profile=Profile.CONFIG_2,
    slow=True,
)
def config2_matches_the_reference_model(s: Session) -> None:
    """Random configuration #2 sequences (GCs linked to EACs) get the reference model's verdicts and states.

    The lifecycle machine in a #2 registry beside its EAC registry (see
    :mod:`gc_conformance.checks.differential.configuration`): hours linked to
    EACs, within and over what is left, across intervals and again; linked GCs
    cancelled; EACs converted and moved; by every party. GC bundles and the
    EACs (where observe() shows them) are compared after every step.
    """
    _configuration_run(s, 2)


@check(
    "differential.config3",
    requirements=[
        *_CONFIG_REQUIREMENTS[3],
        "AUTH-002",
        "AUTH-005",
        "DC-001",
        "DC-004",
        "DC-007",
        "XFER-003",
    ],
    profile=Profile.CONFIG_3,
    slow=True,
)
def config3_matches_the_reference_model(s: Session) -> None:
    """Random configuration #3 sequences (GCs from cancelled EACs) get the reference model's verdicts and states.

    The lifecycle machine in a #3 registry beside its EAC registry (see
    :mod:`gc_conformance.checks.differential.configuration`): EACs cancelled
    for a beneficiary and GCs issued from them, for that beneficiary or
    another, within and over their energy, across intervals and again; by
    every party. GC bundles and the EACs are compared after every step.
    """
    _configuration_run(s, 3)
