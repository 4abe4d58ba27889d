"""Concurrency (SEC-010, SEC-011): transfers or cancellations of one bundle released at the
same instant move or use each certificate at most once."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gc_conformance.checks import check
from gc_conformance.checks.core import CONSUMER, CRITICAL, WIND, shortlist
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.session import (
    AdapterError,
    ConservationBroken,
    Session,
)

if TYPE_CHECKING:
    from gc_conformance.adapters.http_raw import RawResponse

from gc_conformance.checks.security.plumbing import (
    PARALLEL,
    SECURITY,
    held,
    holder_world,
    raw_access,
    send_parallel,
)


def conservation(s: Session, issued: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    """The observed state, after failing unless each issuance's certificates are all there once."""
    state = s.observe()
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for b in state["bundles"]:
        key = (str(b.get("device_id")), str(b.get("production_starting_interval")))
        groups.setdefault(key, []).append(b)
    for key, wh in issued.items():
        members = sorted(groups.get(key, []), key=lambda b: b["certificate_bundle_id_range_start"])
        total = sum(b["bundle_quantity"] for b in members)
        s.expect(
            total == wh,
            "concurrent requests broke conservation: the issuance's bundles do not add up",
            expected=f"{wh} Wh for {key}",
            observed=f"{total} Wh in {shortlist(members)}",
            severity=CRITICAL,
            failure=ConservationBroken,
        )
        for left, right in itertools.pairwise(members):
            s.expect(
                left["certificate_bundle_id_range_end"]
                < right["certificate_bundle_id_range_start"],
                "concurrent requests left one certificate in two bundles (double spending)",
                expected="disjoint certificate ranges",
                observed=shortlist([left, right]),
                severity=CRITICAL,
                failure=ConservationBroken,
            )
    return state


def invariants_hold(s: Session) -> None:
    """The registry's own history, when it has one, shows no double counting."""
    history = getattr(s.adapter, "history", None)
    if not callable(history):
        return
    try:
        report = check_invariants(history(), s.adapter.observe())
    except Exception as exc:
        raise AdapterError(len(s.steps), f"history() failed: {exc!r}") from exc
    findings = [f.to_plain() for f in report.findings]
    s.expect(
        report.ok,
        "after concurrent requests the registry's history shows double counting "
        "(reference invariant checker)",
        expected="no findings",
        observed="; ".join(f"{f['risk']}: {f['message']}" for f in findings[:5]),
        severity=CRITICAL,
    )


def accepted_at_most(s: Session, answers: Sequence[RawResponse], most: int, what: str) -> int:
    accepted = sum(1 for a in answers if a.accepted)
    s.expect(
        accepted <= most,
        f"{accepted} of {len(answers)} concurrent {what} were accepted; at most {most} fit",
        expected=f"at most {most} accepted",
        observed=f"statuses {[a.status for a in answers]}",
        severity=CRITICAL,
    )
    return accepted


@check(
    "security.concurrency.parallel_transfers_conserve", requirements=["SEC-010"], profile=SECURITY
)
def parallel_transfers_conserve(s: Session) -> None:
    """Eight transfers of 300 Wh from one 1000 Wh bundle at once: at most three go through.

    The transfers alternate between bob and carol and are released at the same
    instant. At most three can fit; what bob and carol hold must be exactly the
    accepted transfers' Wh, alice keeps the rest, and the issuance's
    certificates are all there, once. Then eight whole-bundle transfers of what
    is left race: at most one wins. The registry's history (if exposed) is run
    through the reference invariant checker.
    """
    raw = raw_access(s)
    w, bundle, record = holder_world(s)
    issued = {(WIND, record["production_starting_interval"]): 1000}
    receivers = [w.account(w.bob), w.account(w.carol)]
    burst = [
        raw.request(
            "transfer", w.alice, bundle_id=bundle, to_account=receivers[i % 2], quantity=300
        )
        for i in range(PARALLEL)
    ]
    answers = send_parallel(s, raw, burst, "at most 3 of 8 accepted")
    won = accepted_at_most(s, answers, 1000 // 300, "300 Wh transfers of a 1000 Wh bundle")
    state = conservation(s, issued)
    moved = sum(held(state, account) for account in receivers)
    s.expect(
        moved == 300 * won and held(state, w.account(w.alice)) == 1000 - 300 * won,
        "the Wh moved do not match the accepted transfers",
        expected=f"bob and carol hold {300 * won} Wh, alice {1000 - 300 * won} Wh",
        observed=f"bob and carol hold {moved} Wh, alice {held(state, w.account(w.alice))} Wh",
        severity=CRITICAL,
    )
    left = [
        b["bundle_id"]
        for b in state["bundles"]
        if b["account_id"] == w.account(w.alice) and b["certificate_bundle_status"] == "ACTIVE"
    ]
    if len(left) == 1:
        race = [
            raw.request("transfer", w.alice, bundle_id=left[0], to_account=receivers[i % 2])
            for i in range(PARALLEL)
        ]
        answers = send_parallel(s, raw, race, "at most 1 accepted")
        accepted_at_most(s, answers, 1, "whole-bundle transfers of one bundle")
        conservation(s, issued)
    invariants_hold(s)


@check("security.concurrency.parallel_cancels_conserve", requirements=["SEC-011"], profile=SECURITY)
def parallel_cancels_conserve(s: Session) -> None:
    """Eight cancellations of 300 Wh from one 1000 Wh bundle at once: at most three go through.

    Released at the same instant, at most three fit; the cancelled Wh must be
    exactly the accepted ones' and the issuance's certificates all there, once.
    Then whole-bundle cancellations and transfers of what is left race: at most
    one of them wins. The registry's history (if exposed) is run through the
    reference invariant checker.
    """
    raw = raw_access(s)
    w, bundle, record = holder_world(s)
    issued = {(WIND, record["production_starting_interval"]): 1000}
    alice = w.account(w.alice)
    burst = [
        raw.request("cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER, quantity=300)
        for _ in range(PARALLEL)
    ]
    answers = send_parallel(s, raw, burst, "at most 3 of 8 accepted")
    won = accepted_at_most(s, answers, 1000 // 300, "300 Wh cancellations of a 1000 Wh bundle")
    state = conservation(s, issued)
    cancelled = held(state, alice, "CANCELLED")
    s.expect(
        cancelled == 300 * won and held(state, alice) == 1000 - 300 * won,
        "the Wh cancelled do not match the accepted cancellations",
        expected=f"{300 * won} Wh cancelled, {1000 - 300 * won} Wh active",
        observed=f"{cancelled} Wh cancelled, {held(state, alice)} Wh active",
        severity=CRITICAL,
    )
    left = [
        b["bundle_id"]
        for b in state["bundles"]
        if b["account_id"] == alice and b["certificate_bundle_status"] == "ACTIVE"
    ]
    if len(left) == 1:
        race = [
            raw.request("cancel", w.alice, bundle_id=left[0], beneficiary=CONSUMER)
            if i % 2
            else raw.request("transfer", w.alice, bundle_id=left[0], to_account=w.account(w.bob))
            for i in range(PARALLEL)
        ]
        answers = send_parallel(s, raw, race, "at most 1 accepted")
        accepted_at_most(s, answers, 1, "whole-bundle cancellations and transfers of one bundle")
        conservation(s, issued)
    invariants_hold(s)
