"""Replay (SEC-008, SEC-009): a write repeated with its idempotency key acts once; the same
production data never issues twice, even sent many times at once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gc_conformance.checks import check
from gc_conformance.checks.core import CRITICAL, WIND, shortlist
from gc_conformance.session import (
    ISSUER_ID,
    NotApplicable,
    Session,
)

if TYPE_CHECKING:
    pass

from gc_conformance.checks.security.plumbing import (
    PARALLEL,
    SECURITY,
    holder_world,
    issuance_request,
    raw_access,
    refused,
    send,
    send_parallel,
)


@check("security.replay.idempotency_key_acts_once", requirements=["SEC-008"], profile=SECURITY)
def idempotency_key_acts_once(s: Session) -> None:
    """A write repeated with its idempotency key acts once and gets the first answer again.

    Alice transfers 100 Wh to bob with a fresh key, then sends the very same
    request with the same key: bob must still hold 100 Wh and the second
    answer must carry the first one's status and result. The key then cannot
    be reused for another request (200 Wh) or by bob: both are refused and
    change nothing. An issuance by the GC Issuer repeated with its key issues
    once.
    """
    raw = raw_access(s)
    header = raw.idempotency_header()
    if not header:
        raise NotApplicable("the mapping names no idempotency_header: the registry has no keys")
    w, bundle, _ = holder_world(s)
    bob_account = w.account(w.bob)
    key = f"gc-conformance-{uuid.uuid4().hex}"
    transfer = raw.request(
        "transfer", w.alice, bundle_id=bundle, to_account=bob_account, quantity=100
    ).evolve(headers={header: key})
    first = send(s, raw, transfer, "accept")
    s.expect(
        first.accepted,
        "alice's transfer with an idempotency key must be accepted",
        expected="HTTP 2xx",
        observed=f"HTTP {first.status}: {first.message}",
    )
    again = send(s, raw, transfer, "the first answer again")
    held = s.balance(bob_account)
    s.expect(
        held == 100,
        "the same transfer repeated with the same idempotency key was carried out again",
        expected="bob holds 100 Wh (one transfer)",
        observed=f"bob holds {held} Wh",
        severity=CRITICAL,
    )
    route = raw.mapping.actions["transfer"]
    results = [
        raw.mapping.decode_result(route, r.body) if isinstance(r.body, Mapping) else r.body
        for r in (first, again)
    ]
    s.expect(
        again.status == first.status and results[0] == results[1],
        "the repeated request must get the first answer",
        expected=f"HTTP {first.status} {results[0]}",
        observed=f"HTTP {again.status} {results[1]}",
    )
    other = raw.request(
        "transfer", w.alice, bundle_id=bundle, to_account=bob_account, quantity=200
    ).evolve(headers={header: key})
    refused(s, raw, other, "the same idempotency key on another request (200 Wh)")
    stolen = raw.request(
        "transfer", w.bob, bundle_id=bundle, to_account=bob_account, quantity=100
    ).evolve(headers={header: key})
    refused(s, raw, stolen, "bob's request under alice's idempotency key")
    issue = issuance_request(s, raw, ISSUER_ID, 2).evolve(
        headers={header: f"gc-conformance-{uuid.uuid4().hex}"}
    )
    issued = send(s, raw, issue, "accept")
    s.expect(
        issued.accepted,
        "an issuance with an idempotency key must be accepted",
        expected="HTTP 2xx",
        observed=f"HTTP {issued.status}: {issued.message}",
    )
    repeat = send(s, raw, issue, "the first answer again")
    s.expect(
        repeat.status == issued.status,
        "the repeated issuance must get the first answer",
        expected=f"HTTP {issued.status}",
        observed=f"HTTP {repeat.status}: {repeat.message}",
    )
    expect_issued_once(s, 2)


def hour_total(s: Session, hour: int) -> tuple[int, list[dict[str, Any]]]:
    """Wh of the wind park's bundles for production hour ``hour``, and those bundles."""
    start, _ = s.hour(hour)
    found = [
        b
        for b in s.observe()["bundles"]
        if b.get("device_id") == WIND and b.get("production_starting_interval") == start
    ]
    return sum(b["bundle_quantity"] for b in found), found


def expect_issued_once(s: Session, hour: int, wh: int = 1000) -> None:
    total, found = hour_total(s, hour)
    s.expect(
        total == wh,
        f"production hour {hour} must be issued exactly once ({wh} Wh)",
        expected=f"{wh} Wh",
        observed=f"{total} Wh in {shortlist(found)}",
        severity=CRITICAL,
    )


@check("security.replay.production_reading_issued_once", requirements=["SEC-009"], profile=SECURITY)
def production_reading_issued_once(s: Session) -> None:
    """The same production data sent again, or many times at once, is issued once.

    The GC Issuer sends an hour's issuance, then the identical request again:
    the repeat must be refused and the hour hold 1000 Wh. Then another hour's
    issuance is sent eight times at the same instant: exactly one may be
    accepted, and that hour too holds 1000 Wh.
    """
    raw = raw_access(s)
    holder_world(s)
    issue = issuance_request(s, raw, ISSUER_ID, 2)
    first = send(s, raw, issue, "accept")
    s.expect(
        first.accepted,
        "a valid issuance must be accepted",
        expected="HTTP 2xx",
        observed=f"HTTP {first.status}: {first.message}",
    )
    refused(s, raw, issue, "the same production data sent a second time")
    expect_issued_once(s, 2)
    burst = issuance_request(s, raw, ISSUER_ID, 3)
    answers = send_parallel(s, raw, [burst] * PARALLEL, "at most one accepted")
    accepted = [a for a in answers if a.accepted]
    s.expect(
        len(accepted) <= 1,
        f"the same production data sent {PARALLEL} times at once was accepted more than once",
        expected="at most 1 accepted",
        observed=f"{len(accepted)} accepted: {[a.status for a in answers]}",
        severity=CRITICAL,
    )
    s.expect(
        len(accepted) == 1,
        "one of the identical issuances must be accepted",
        expected="1 accepted",
        observed=f"statuses {[a.status for a in answers]}",
    )
    expect_issued_once(s, 3)
