"""EAC and GC registries side by side under each configuration, invariants after every step."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from config_world import eac_registry, linked
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gc_conformance.reference import (
    Account,
    BundleStatus,
    Cancel,
    CorrectProduction,
    Expire,
    IssueBundle,
    OpenAccount,
    RegisterDevice,
    SubmitProduction,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.configurations import (
    CancelLinkedGcs,
    ConvertEacs,
    HourSuspension,
    IssueFromCancelledEacs,
    IssueLinkedGcs,
    LinkBook,
    LinkedRegistries,
    MonthlyCap,
    configuration_1_registry,
)
from gc_conformance.reference.cross_registry import check_cross_registry
from gc_conformance.reference.eac import (
    EacCancel,
    EacExpire,
    EacIssuingBody,
    EacReportProduction,
    EacStatus,
    EacTransfer,
)
from gc_conformance.reference.invariants import check_invariants

UTC = _dt.UTC
SETTINGS = settings(
    max_examples=50,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

months = st.integers(1, 3)
days = st.integers(1, 28)
hours = st.integers(0, 23)
hour_wh = st.integers(0, 1_200_000)
picks = st.integers(0, 50)


def stamp(moment: _dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def month_period(month: int) -> tuple[str, str]:
    start = _dt.datetime(2026, month, 1, tzinfo=UTC)
    end = _dt.datetime(2026 + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return stamp(start), stamp(end)


def hour_of(month: int, day: int, hour: int) -> tuple[str, str]:
    start = _dt.datetime(2026, month, day, hour, tzinfo=UTC)
    return stamp(start), stamp(start + _dt.timedelta(hours=1))


class _Linked(RuleBasedStateMachine):
    configuration = 2
    cap = MonthlyCap.POOLED
    suspension = HourSuspension.SUSPEND_WHOLE_HOUR

    def __init__(self) -> None:
        super().__init__()
        self.eac = eac_registry()
        self.pair: LinkedRegistries = linked(
            self.configuration, self.eac, self.cap, self.suspension
        )
        self.now = _dt.datetime(2026, 7, 1, tzinfo=UTC)

    def tick(self, hours: int = 1) -> _dt.datetime:
        self.now += _dt.timedelta(hours=hours)
        return self.now

    @initialize(first=st.integers(1_000_000, 3_500_000), second=st.integers(0, 3_500_000))
    def two_months_of_eacs(self, first: int, second: int) -> None:
        for month, energy in ((1, first), (2, second)):
            period = month_period(month)
            self.eac.execute(
                EacReportProduction("EIB", "DEV-1", "M-1", *period, energy), self.tick()
            )
        if self.configuration == 3:  # #3 starts from EACs cancelled for a beneficiary
            for index, eac in enumerate(self.eac.eacs()):
                who = "ACME" if index % 2 == 0 else "BETA"
                self.eac.execute(EacCancel("PRODUCER", (eac.eac_id,), who), self.tick())

    def pick_eac(self, index: int, *statuses: EacStatus) -> str | None:
        found = [e.eac_id for e in self.eac.eacs() if not statuses or e.status in statuses]
        return found[index % len(found)] if found else None

    def linked_outcome(self, command: Any) -> None:
        before = self.pair.fingerprint()
        outcome = self.pair.execute(command, self.tick())
        if not outcome.accepted:
            assert self.pair.fingerprint() == before, outcome

    @rule(month=months, energy=st.integers(0, 3_500_000))
    def report_period(self, month: int, energy: int) -> None:
        self.eac.execute(
            EacReportProduction("EIB", "DEV-1", "M-1", *month_period(month), energy), self.tick()
        )

    @rule(index=picks, to=st.sampled_from(["E-TRADER", "E-PROD"]))
    def transfer_eac(self, index: int, to: str) -> None:
        eac_id = self.pick_eac(index)
        if eac_id is not None:
            holder = "TRADER" if to == "E-PROD" else "PRODUCER"
            before = self.eac.fingerprint()
            outcome = self.eac.execute(EacTransfer(holder, (eac_id,), to), self.tick())
            assert outcome.accepted or self.eac.fingerprint() == before

    @rule(index=picks, beneficiary=st.sampled_from(["ACME", "BETA"]))
    def cancel_eac(self, index: int, beneficiary: str) -> None:
        eac_id = self.pick_eac(index, EacStatus.ACTIVE, EacStatus.BACKING_GC)
        if eac_id is not None:
            record = self.eac.eac(eac_id)
            assert record is not None
            holder = {"E-PROD": "PRODUCER", "E-TRADER": "TRADER", "E-GCI": "GCI"}.get(
                record.account_id or "", "?"
            )
            self.eac.execute(EacCancel(holder, (eac_id,), beneficiary), self.tick())

    @rule(days_ahead=st.sampled_from([1, 7, 30, 200, 400]))
    def expire(self, days_ahead: int) -> None:
        self.eac.execute(EacExpire("EIB"), self.tick(24 * days_ahead))

    # --- ordinary requests: where the issue-15 bugs lived. Each must be refused or
    # --- routed through the link; the checkers run after every step.

    @rule(
        month=months,
        day=days,
        hour=hours,
        wh=hour_wh,
        bundle=st.booleans(),
        direct=st.booleans(),
    )
    def ordinary_issuance(
        self, month: int, day: int, hour: int, wh: int, bundle: bool, direct: bool
    ) -> None:
        interval = hour_of(month, day, hour)
        command: Any = (
            IssueBundle("GCI", "DEV-1", "G-PROD", *interval, 10**9, 10**9 + wh, wh + 1, wh + 1)
            if bundle
            else SubmitProduction("GCI", "DEV-1", "M-1", *interval, wh)
        )
        before = self.pair.fingerprint()
        send = self.pair.gc.execute if direct else self.pair.execute
        outcome = send(command, self.tick())
        assert not outcome.accepted, "a #2/#3 registry issued GCs with no EAC behind them"
        assert self.pair.fingerprint() == before

    @rule(index=picks, factor=st.sampled_from([0, 0.25, 0.5, 0.99, 1.01, 1.5, 3]))
    def correct(self, index: int, factor: float) -> None:
        gc = self.pair.gc
        issued = [gc.issuance(i) for i in range(1, 200) if gc.issuance(i) is not None]
        if not issued:
            return
        issuance = issued[index % len(issued)]
        assert issuance is not None
        reading = gc.production(issuance.device_id, issuance.production_start)
        if reading is None:
            return
        wh = int(reading.recognised_wh * factor)
        interval = (stamp(issuance.production_start), stamp(issuance.production_end))
        self.linked_outcome(CorrectProduction("GCI", issuance.device_id, *interval, wh))

    @rule(index=picks, quantity=st.one_of(st.none(), st.integers(1, 500_000)), direct=st.booleans())
    def withdraw(self, index: int, quantity: int | None, direct: bool) -> None:
        live = sorted(
            (b for b in self.pair.gc.current_bundles() if b.status.is_live),
            key=lambda b: b.bundle_id,
        )
        if live:
            command = Withdraw("GCI", live[index % len(live)].bundle_id, "meter fault", quantity)
            if direct:
                before = self.pair.fingerprint()
                outcome = self.pair.gc.execute(command, self.tick())
                if not outcome.accepted:
                    assert self.pair.fingerprint() == before
            else:
                self.linked_outcome(command)

    @rule(days_ahead=st.sampled_from([1, 30, 200, 400]))
    def expire_gcs(self, days_ahead: int) -> None:
        self.linked_outcome(Expire("GCI"))
        self.tick(24 * days_ahead)

    @invariant()
    def no_double_counting(self) -> None:
        gc = self.pair.gc
        report = check_cross_registry(self.eac.export_history(), gc.export_history())
        assert report.ok, report.findings
        single = check_invariants(gc.export_history(), gc.export_state())
        assert single.ok, single.findings
        book = gc.book(LinkBook)
        for record in self.eac.eacs():
            assert book.linked_wh(record.eac_id) <= record.face_value_wh
            if book.linked_wh(record.eac_id):
                assert record.gc_issuer_id == gc.issuer.issuer_id
        for issuance_id in range(1, 10_000):
            issuance = gc.issuance(issuance_id)
            if issuance is None:
                break
            assert issuance.registry_configuration == self.configuration
            assert issuance.eac_ids, "every #2/#3 GC is linked to EACs"
            assert issuance.transferable is (self.configuration == 2)
            for eac_id in issuance.eac_ids:
                eac = self.eac.eac(eac_id)
                assert eac is not None and issuance.expiry <= eac.expiry


class Configuration2Machine(_Linked):
    configuration = 2

    @rule(month=months, day=days, hour=hours, wh=hour_wh)
    def issue_linked(self, month: int, day: int, hour: int, wh: int) -> None:
        self.linked_outcome(IssueLinkedGcs("GCI", "DEV-1", "M-1", *hour_of(month, day, hour), wh))

    @rule(index=picks, quantity=st.one_of(st.none(), st.integers(1, 500_000)))
    def cancel_linked(self, index: int, quantity: int | None) -> None:
        live = [b for b in self.pair.gc.current_bundles() if b.status is BundleStatus.ACTIVE]
        if live:
            bundle = sorted(live, key=lambda b: b.bundle_id)[index % len(live)]
            holder = "PRODUCER" if bundle.account_id == "G-PROD" else "BUYER"
            self.linked_outcome(CancelLinkedGcs(holder, bundle.bundle_id, "ACME", quantity))

    @rule(index=picks)
    def transfer_gc(self, index: int) -> None:
        live = [b for b in self.pair.gc.current_bundles() if b.status is BundleStatus.ACTIVE]
        if live:
            bundle = sorted(live, key=lambda b: b.bundle_id)[index % len(live)]
            holder, to = (
                ("PRODUCER", "G-BUYER") if bundle.account_id == "G-PROD" else ("BUYER", "G-PROD")
            )
            self.pair.gc.execute(Transfer(holder, bundle.bundle_id, to), self.tick())

    @rule(index=picks, month=months, day=days, hour=hours, wh=hour_wh)
    def convert(self, index: int, month: int, day: int, hour: int, wh: int) -> None:
        eac_id = self.pick_eac(index, EacStatus.ACTIVE)
        if eac_id is not None:
            hours_ = ((*hour_of(month, day, hour), wh),)
            self.linked_outcome(
                ConvertEacs("PRODUCER", (eac_id,), "DEV-1", "M-1", hours_, "G-PROD")
            )


class Configuration2WholeEacsMachine(Configuration2Machine):
    cap = MonthlyCap.WHOLE_EACS
    suspension = HourSuspension.SUSPEND_UNCOVERED_PART


class Configuration3Machine(_Linked):
    configuration = 3

    @rule(
        index=picks,
        month=months,
        day=days,
        hour=hours,
        wh=hour_wh,
        who=st.sampled_from(["ACME", "BETA"]),
    )
    def issue_from_cancelled(
        self, index: int, month: int, day: int, hour: int, wh: int, who: str
    ) -> None:
        eac_id = self.pick_eac(index, EacStatus.CANCELLED)
        if eac_id is not None:
            command = IssueFromCancelledEacs(
                "GCI", (eac_id,), "DEV-1", "M-1", *hour_of(month, day, hour), wh, who, "G-CONS"
            )
            self.linked_outcome(command)


class Configuration3RefuseMachine(Configuration3Machine):
    suspension = HourSuspension.REFUSE


class Configuration1Machine(RuleBasedStateMachine):
    """#1: the Issuing Body's GC registry; an unrelated EAC registry runs beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.eac = eac_registry()
        self.gc = configuration_1_registry(EacIssuingBody("EIB1", "Body #1", "BE", configuration=1))
        start = _dt.datetime(2026, 1, 1, tzinfo=UTC)
        for account_id, holder in (("G-PROD", "PRODUCER"), ("G-BUYER", "BUYER")):
            self.gc.execute(
                OpenAccount("EIB1", Account(account_id, holder, account_id)), start
            ).unwrap()
        from config_world import device

        self.gc.execute(RegisterDevice("EIB1", device()), start).unwrap()
        self.now = _dt.datetime(2026, 7, 1, tzinfo=UTC)

    def tick(self) -> _dt.datetime:
        self.now += _dt.timedelta(hours=1)
        return self.now

    @rule(month=months, day=days, hour=hours, wh=hour_wh)
    def submit(self, month: int, day: int, hour: int, wh: int) -> None:
        self.gc.execute(
            SubmitProduction("EIB1", "DEV-1", "M-1", *hour_of(month, day, hour), wh), self.tick()
        )

    @rule(month=months, energy=st.integers(0, 3_500_000))
    def report_period(self, month: int, energy: int) -> None:
        self.eac.execute(
            EacReportProduction("EIB", "DEV-1", "M-1", *month_period(month), energy), self.tick()
        )

    @rule(index=picks, cancel=st.booleans())
    def move_or_cancel(self, index: int, cancel: bool) -> None:
        live = sorted(
            (b for b in self.gc.current_bundles() if b.status is BundleStatus.ACTIVE),
            key=lambda b: b.bundle_id,
        )
        if live:
            bundle = live[index % len(live)]
            holder = "PRODUCER" if bundle.account_id == "G-PROD" else "BUYER"
            command: Any = (
                Cancel(holder, bundle.bundle_id, "ACME")
                if cancel
                else Transfer(
                    holder, bundle.bundle_id, "G-BUYER" if holder == "PRODUCER" else "G-PROD"
                )
            )
            self.gc.execute(command, self.tick())

    @invariant()
    def no_double_counting(self) -> None:
        assert check_invariants(self.gc.export_history(), self.gc.export_state()).ok
        assert check_cross_registry(self.eac.export_history(), self.gc.export_history()).ok
        for bundle in self.gc.current_bundles():
            issuance = self.gc.issuance(bundle.issuance_id)
            assert issuance is not None and issuance.registry_configuration == 1


TestConfiguration1 = Configuration1Machine.TestCase
TestConfiguration2 = Configuration2Machine.TestCase
TestConfiguration2WholeEacs = Configuration2WholeEacsMachine.TestCase
TestConfiguration3 = Configuration3Machine.TestCase
TestConfiguration3Refuse = Configuration3RefuseMachine.TestCase
for _case in (
    TestConfiguration1,
    TestConfiguration2,
    TestConfiguration2WholeEacs,
    TestConfiguration3,
    TestConfiguration3Refuse,
):
    _case.settings = SETTINGS
