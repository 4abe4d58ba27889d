"""Hypothesis-driven tests: random valid and invalid request sequences against the registry.

After every step the double-counting checker must find nothing, and a few
properties computed here independently of the model must hold: an issuance's
certificates are exactly its current bundles' certificates, no certificate is
in two current bundles, and every refusal leaves the state exactly as it was
(with one rejected record appended to the history).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from core_builders import (
    ALICE,
    BOB,
    CAROL,
    CONSUMER_ACCOUNT,
    ISSUER,
    ISSUER_TEST_ACCOUNT,
    PRODUCER_ACCOUNT,
    SOLAR,
    SOLAR_METER,
    SUPPLIER_ACCOUNT,
    WIND,
    WIND_METER,
    World,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gc_conformance.reference import (
    Accepted,
    BundleStatus,
    Cancel,
    CapacityPlausibility,
    Claim,
    Command,
    CorrectionDeduction,
    CorrectProduction,
    Expire,
    IssueBundle,
    Policies,
    Registry,
    Rejected,
    Release,
    Reserve,
    Rounding,
    SplitOrigin,
    SubmitProduction,
    Transfer,
    ValidityReading,
    Withdraw,
)
from gc_conformance.reference.invariants import check_invariants

BASE = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
ACTORS = [ISSUER, ALICE, BOB, CAROL, "mallory"]
ACCOUNTS = [PRODUCER_ACCOUNT, SUPPLIER_ACCOUNT, CONSUMER_ACCOUNT, ISSUER_TEST_ACCOUNT, "NOWHERE"]
BENEFICIARIES = ["Acme", "Other Corp"]
METERS = {WIND: WIND_METER, SOLAR: SOLAR_METER}

policies_strategy = st.builds(
    Policies,
    rounding=st.sampled_from(Rounding),
    validity=st.sampled_from(ValidityReading),
    capacity=st.sampled_from(CapacityPlausibility),
    split_origin=st.sampled_from(SplitOrigin),
    correction_deduction=st.sampled_from(CorrectionDeduction),
)
# mostly valid values, with zero, negative and too-big ones mixed in
_QUANTITY_KINDS = ["whole", "whole", "part", "part", "part", "part", "zero", "negative", "too big"]


def _quantity(kind: str, size: int) -> int | None:
    return {"whole": None, "part": size, "zero": 0, "negative": -size, "too big": 5000 + size}[kind]


quantities = st.builds(_quantity, st.sampled_from(_QUANTITY_KINDS), st.integers(1, 400))
energies = st.one_of(
    st.integers(0, 3000),
    st.integers(0, 3000),
    st.decimals(min_value=0, max_value=3000, places=1, allow_nan=False).map(str),
    st.sampled_from(["0.4", "0.5", "-1", "NaN", "abc", "1e3", "1e30", "1e-1000000000"]),
)
# the holder of the bundle, or anybody (the issuer, other holders, a stranger)
actor_choices = st.sampled_from([*["holder"] * 10, *ACTORS])


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_conservation(registry: Registry) -> None:
    """Independent of the checker: current bundles partition every issuance exactly."""
    by_issuance: dict[int, int] = {}
    ranges = []
    for bundle in registry.current_bundles():
        assert bundle.status is not BundleStatus.BUNDLE_SPLIT
        issuance = registry.issuance(bundle.issuance_id)
        assert issuance is not None
        assert issuance.range_start <= bundle.range_start <= bundle.range_end <= issuance.range_end
        by_issuance[bundle.issuance_id] = by_issuance.get(bundle.issuance_id, 0) + bundle.quantity
        ranges.append((bundle.range_start, bundle.range_end, bundle.bundle_id))
    for issuance_id, total in by_issuance.items():
        issuance = registry.issuance(issuance_id)
        assert issuance is not None
        assert total == issuance.quantity, (issuance_id, total, issuance.quantity)
    ranges.sort()
    for (_, end, first), (start, _, second) in itertools.pairwise(ranges):
        assert end < start, f"bundles {first} and {second} share certificate {start}"


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.now = BASE + dt.timedelta(days=3)
        self.produced: list[tuple[str, str, str]] = []  # (device, start, end) accepted

    @initialize(policies=policies_strategy, energy=st.integers(8, 2000))
    def start(self, policies: Policies, energy: int) -> None:
        """Begin with one issuance already traded and partly cancelled, so that claims,
        second cancellations and deferred corrections are reachable from the first step."""
        self.world = World(policies)
        start, end = stamp(BASE + dt.timedelta(hours=10)), stamp(BASE + dt.timedelta(hours=11))
        assert self.run(SubmitProduction(ISSUER, WIND, WIND_METER, start, end, energy)).accepted
        self.produced.append((WIND, start, end))
        sold = self.run(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, energy // 2)).value.bundle_id
        self.run(Cancel(BOB, sold, "Acme", quantity=energy // 4))

    # ------------------------------------------------------------ plumbing

    @property
    def registry(self) -> Registry:
        return self.world.registry

    def run(self, command: Command, now: dt.datetime | None = None) -> Any:
        before = self.registry.fingerprint()
        length = len(self.registry.history)
        outcome = self.registry.execute(command, self.now if now is None else now)
        history = self.registry.history
        assert len(history) == length + 1
        if isinstance(outcome, Rejected):
            assert self.registry.fingerprint() == before, outcome.problem
            assert history[-1].problem == outcome.problem and history[-1].effects == ()
        else:
            assert isinstance(outcome, Accepted)
            assert history[-1].accepted
        return outcome

    def pick_bundle(self, data: st.DataObject, *prefer: BundleStatus) -> int:
        """Mostly a current bundle (preferably in one of the ``prefer`` states), sometimes a
        superseded, unknown or malformed ID."""
        wanted = prefer or (BundleStatus.ACTIVE,)
        current = sorted(b.bundle_id for b in self.registry.current_bundles())
        preferred = [b for b in current if self.world.bundle(b).status in wanted]
        ever = [b for b in range(1, 2 + len(current) * 2) if self.registry.bundle(b) is not None]
        unknown = data.draw(st.sampled_from([0, 10_000]), label="unknown")
        choices = [*preferred, *preferred, *preferred, *preferred, *current, *ever, unknown]
        return data.draw(st.sampled_from(choices), label="bundle_id")

    def pick_actor(self, data: st.DataObject, bundle_id: int) -> str:
        choice = data.draw(actor_choices, label="actor")
        if choice != "holder":
            return choice
        bundle = self.registry.bundle(bundle_id)
        account = self.registry.account(bundle.account_id) if bundle else None
        return account.holder_id if account else ALICE

    # ------------------------------------------------------------ time

    @rule(hours=st.integers(0, 30))
    def advance(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)

    @rule(days=st.integers(60, 400))
    def advance_far_and_sweep(self, days: int) -> None:
        self.now += dt.timedelta(days=days)
        outcome = self.run(Expire(ISSUER))
        assert outcome.accepted
        for bundle in self.registry.current_bundles():
            expiry = self.registry.issuance(bundle.issuance_id).expiry  # type: ignore[union-attr]
            if expiry <= self.now:
                assert not bundle.status.is_live

    @rule(actor=st.sampled_from(ACTORS))
    def sweep(self, actor: str) -> None:
        self.run(Expire(actor))

    @rule(days=st.integers(0, 800))
    def decide_a_sweep_and_throw_it_away(self, days: int) -> None:
        """Deciding changes nothing, not even the expiry queue (only committing does)."""
        before, queue = self.registry.fingerprint(), list(self.registry._expiry_queue)
        _, result, effects = self.registry.prepare(
            Expire(ISSUER), self.now + dt.timedelta(days=days)
        )
        assert len(result.expired) == len(effects)
        assert self.registry.fingerprint() == before
        assert self.registry._expiry_queue == queue

    # ------------------------------------------------------------ issuance

    @rule(
        device=st.sampled_from([WIND, WIND, SOLAR, SOLAR, "NOPE"]),
        offset=st.integers(-2, 80),
        minutes=st.sampled_from([15, 30, 60, 60, 60, 61, 0]),
        energy=energies,
        actor=st.sampled_from([ISSUER, ISSUER, ISSUER, ALICE]),
        wrong_meter=st.sampled_from([False, False, False, False, True]),
    )
    def submit(
        self, device: str, offset: int, minutes: int, energy: Any, actor: str, wrong_meter: bool
    ) -> None:
        start = BASE + dt.timedelta(hours=offset)
        end = start + dt.timedelta(minutes=minutes)
        meter = "BAD" if wrong_meter else METERS.get(device, "M")
        outcome = self.run(SubmitProduction(actor, device, meter, stamp(start), stamp(end), energy))
        if outcome.accepted:
            self.produced.append((device, stamp(start), stamp(end)))

    @rule(
        data=st.data(),
        offset=st.integers(0, 80),
        delta=st.integers(-3, 3),
        quantity=st.integers(-1, 2000),
        energy=energies,
    )
    def issue_bundle(
        self, data: st.DataObject, offset: int, delta: int, quantity: int, energy: Any
    ) -> None:
        start = BASE + dt.timedelta(hours=offset)
        first = self.registry._next_certificate_id + delta
        last = first + quantity - 1 + data.draw(st.sampled_from([0, 0, 1]), label="mismatch")
        account = data.draw(st.sampled_from([PRODUCER_ACCOUNT, PRODUCER_ACCOUNT, SUPPLIER_ACCOUNT]))
        end = start + dt.timedelta(hours=1)
        outcome = self.run(
            IssueBundle(
                ISSUER, WIND, account, stamp(start), stamp(end), first, last, quantity, energy
            )
        )
        if outcome.accepted:
            self.produced.append((WIND, stamp(start), stamp(end)))

    @rule(data=st.data(), energy=energies, actor=st.sampled_from([ISSUER, ISSUER, BOB]))
    def correct(self, data: st.DataObject, energy: Any, actor: str) -> None:
        choices = [
            *self.produced,
            *self.produced,
            (WIND, stamp(BASE), stamp(BASE + dt.timedelta(hours=1))),
        ]
        device, start, end = data.draw(st.sampled_from(choices), label="reading")
        before = self.registry.outstanding_deductions(device)
        outcome = self.run(CorrectProduction(actor, device, start, end, energy))
        if outcome.accepted:
            result = outcome.value
            settled = result.issued.deducted_wh if result.issued is not None else 0
            assert (
                self.registry.outstanding_deductions(device)
                == before + result.deferred_wh - settled
            )

    # ------------------------------------------------------------ lifecycle

    @rule(data=st.data(), to=st.sampled_from(ACCOUNTS), quantity=quantities)
    def transfer(self, data: st.DataObject, to: str, quantity: int | None) -> None:
        bundle_id = self.pick_bundle(data)
        self.run(Transfer(self.pick_actor(data, bundle_id), bundle_id, to, quantity))

    @rule(
        data=st.data(),
        beneficiary=st.sampled_from(BENEFICIARIES),
        purpose=st.sampled_from(["CONSUMPTION", "CONSUMPTION", "STORAGE_CHARGE", "OTHER"]),
        quantity=quantities,
    )
    def cancel(
        self, data: st.DataObject, beneficiary: str, purpose: str, quantity: int | None
    ) -> None:
        bundle_id = self.pick_bundle(data)
        self.run(
            Cancel(self.pick_actor(data, bundle_id), bundle_id, beneficiary, purpose, quantity)
        )

    @rule(
        data=st.data(),
        claimant=st.sampled_from(["beneficiary", "beneficiary", *BENEFICIARIES]),
        quantity=quantities,
    )
    def claim(self, data: st.DataObject, claimant: str, quantity: int | None) -> None:
        bundle_id = self.pick_bundle(data, BundleStatus.CANCELLED)
        bundle = self.registry.bundle(bundle_id)
        if claimant == "beneficiary":
            named = bundle.cancellation if bundle is not None else None
            claimant = named.beneficiary if named is not None else "Acme"
        self.run(Claim(self.pick_actor(data, bundle_id), bundle_id, claimant, quantity))

    @rule(data=st.data(), kind=st.sampled_from(["RESERVED", "LOCKED", "HELD"]), quantity=quantities)
    def reserve(self, data: st.DataObject, kind: str, quantity: int | None) -> None:
        bundle_id = self.pick_bundle(data)
        self.run(Reserve(self.pick_actor(data, bundle_id), bundle_id, quantity, kind))

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        bundle_id = self.pick_bundle(data, BundleStatus.RESERVED, BundleStatus.LOCKED)
        self.run(Release(self.pick_actor(data, bundle_id), bundle_id))

    @rule(data=st.data(), actor=st.sampled_from([ISSUER, ISSUER, ALICE]), quantity=quantities)
    def withdraw(self, data: st.DataObject, actor: str, quantity: int | None) -> None:
        self.run(Withdraw(actor, self.pick_bundle(data), "correction", quantity))

    @rule(data=st.data())
    def go_back_in_time(self, data: st.DataObject) -> None:
        last = self.registry.last_action_at
        if last is None:
            return
        earlier = last - dt.timedelta(seconds=data.draw(st.integers(1, 3600)))
        outcome = self.run(Expire(ISSUER), earlier)
        assert isinstance(outcome, Rejected) and outcome.code.name == "TIME_REVERSAL"

    # ------------------------------------------------------------ after every step

    @invariant()
    def no_double_counting(self) -> None:
        report = check_invariants(self.registry.export_history(), self.registry.export_state())
        assert report.ok, [f.to_plain() for f in report.findings]

    @invariant()
    def recognised_wh_are_the_rounded_running_total(self) -> None:
        """Rounding carries the sub-Wh remainder: per device, recognised + remainder = metered."""
        for device in (WIND, SOLAR):
            readings = [
                self.registry.production(d, dt.datetime.fromisoformat(start))
                for d, start, _ in self.produced
                if d == device
            ]
            assert all(r is not None for r in readings)
            metered = sum(Decimal(r.energy_wh) for r in readings if r is not None)
            recognised = sum(r.recognised_wh for r in readings if r is not None)
            remainder = self.registry.rounding_remainder(device)
            assert recognised + remainder == metered
            low = Decimal("-0.5") if self.registry.policies.rounding is Rounding.NEAREST else 0
            assert low <= remainder < low + 1

    @invariant()
    def certificates_are_conserved(self) -> None:
        check_conservation(self.registry)

    @invariant()
    def balances_are_active_holdings(self) -> None:
        for account in ACCOUNTS[:-1]:
            active = sum(
                b.quantity
                for b in self.registry.current_bundles()
                if b.account_id == account and b.status is BundleStatus.ACTIVE
            )
            assert self.registry.balance(account) == active


RegistryMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None
)
TestRegistryMachine = RegistryMachine.TestCase


# ---------------------------------------------------------------- a plain property


def _populated_world(policies: Policies) -> World:
    world = World(policies)
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.produce("2024-03-01T11:00:00Z", 1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 400))  # 3 (B), 4 (A)
    world.ok(Cancel(BOB, 3, "Acme", quantity=100))  # 5 cancelled, 6
    world.ok(Reserve(ALICE, 4, 10))  # 7 reserved, 8
    return world


commands = st.one_of(
    st.builds(
        Transfer,
        st.sampled_from(ACTORS),
        st.integers(-1, 10),
        st.sampled_from(ACCOUNTS),
        quantities,
    ),
    st.builds(
        Cancel,
        st.sampled_from(ACTORS),
        st.integers(-1, 10),
        st.sampled_from(["", *BENEFICIARIES]),
        st.sampled_from(["CONSUMPTION", "STORAGE_CHARGE", "X"]),
        quantities,
    ),
    st.builds(
        Claim,
        st.sampled_from(ACTORS),
        st.integers(-1, 10),
        st.sampled_from(BENEFICIARIES),
        quantities,
    ),
    st.builds(
        Reserve,
        st.sampled_from(ACTORS),
        st.integers(-1, 10),
        quantities,
        st.sampled_from(["RESERVED", "X"]),
    ),
    st.builds(Release, st.sampled_from(ACTORS), st.integers(-1, 10)),
    st.builds(
        Withdraw,
        st.sampled_from(ACTORS),
        st.integers(-1, 10),
        st.sampled_from(["", "why"]),
        quantities,
    ),
    st.builds(
        SubmitProduction,
        st.sampled_from(ACTORS),
        st.sampled_from([WIND, SOLAR]),
        st.sampled_from([WIND_METER, SOLAR_METER]),
        st.sampled_from(["2024-03-01T10:00:00Z", "2024-03-01T10:30:00Z", "2024-03-01T12:00:00Z"]),
        st.sampled_from(["2024-03-01T11:00:00Z", "2024-03-01T13:00:00Z", "2024-03-01T12:14:95Z"]),
        energies,
    ),
    st.builds(
        CorrectProduction,
        st.sampled_from(ACTORS),
        st.sampled_from([WIND, SOLAR]),
        st.just("2024-03-01T10:00:00Z"),
        st.sampled_from(["2024-03-01T11:00:00Z", "2024-03-01T10:30:00Z"]),
        energies,
    ),
)


@settings(max_examples=150, deadline=None)
@given(policies=policies_strategy, command=commands, later=st.integers(0, 800))
def test_a_refused_request_changes_nothing_and_is_logged_once(
    policies: Policies, command: Command, later: int
) -> None:
    world = _populated_world(policies)
    registry = world.registry
    before, length = registry.fingerprint(), len(registry.history)
    outcome = registry.execute(command, world.now + dt.timedelta(days=later))
    assert len(registry.history) == length + 1
    if isinstance(outcome, Rejected):
        assert registry.fingerprint() == before
        assert registry.history[-1].problem == outcome.problem
        assert registry.history[-1].effects == ()
    else:
        assert registry.history[-1].effects != () or isinstance(
            command, (SubmitProduction, CorrectProduction)
        )
    report = check_invariants(registry.export_history(), registry.export_state())
    assert report.ok, report.findings
    check_conservation(registry)
