"""Authority (SEC-003 - SEC-005): a holder's token with another party named in the body does
not act as that party; a holder reads only their own bundles; issuance and admin routes need
the GC Issuer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gc_conformance.checks import check
from gc_conformance.checks.core import CONSUMER, CRITICAL, shortlist
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    Session,
)

if TYPE_CHECKING:
    pass

from gc_conformance.checks.security.plumbing import (
    SECURITY,
    holder_world,
    issuance_request,
    raw_access,
    refused,
    send,
    shorten,
)


@check(
    "security.auth.holder_cannot_act_on_others_bundles", requirements=["SEC-003"], profile=SECURITY
)
def holder_cannot_act_on_others_bundles(s: Session) -> None:
    """Bob, with his own token, cannot move, cancel, claim, reserve or withdraw alice's bundles.

    Every operation is sent three ways: naming bob as the acting party, naming
    alice (the holder), and naming the GC Issuer. Each must be refused and
    change nothing: the party that acts is the credential's, never the one a
    body field names. A registry that believes the body's ``source_id`` fails.
    """
    raw = raw_access(s)
    w, bundle, _ = holder_world(s)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER, quantity=100)
    active = one_bundle(s, "ACTIVE")
    cancelled = one_bundle(s, "CANCELLED")
    bob = raw.bearer(w.bob)
    operations: list[tuple[str, dict[str, Any]]] = [
        ("transfer", {"bundle_id": active, "to_account": w.account(w.bob), "quantity": 10}),
        ("cancel", {"bundle_id": active, "beneficiary": "Bob's customer", "quantity": 10}),
        ("claim", {"bundle_id": cancelled, "claimant": CONSUMER, "quantity": 10}),
        ("reserve", {"bundle_id": active, "quantity": 10}),
        ("withdraw", {"bundle_id": active, "reason": "bob says so", "quantity": 10}),
    ]
    before = s.snapshot()
    for named in (w.bob, w.alice, ISSUER_ID):
        for action, fields in operations:
            request = raw.request(action, named, **fields).evolve(
                authorization=bob, credential="bob's token"
            )
            refused(
                s,
                raw,
                request,
                f"{action} of alice's bundle with bob's token, naming {named} as the actor",
                before=before,
            )


def one_bundle(s: Session, status: str) -> Any:
    found = s.bundles(certificate_bundle_status=status)
    s.expect(
        len(found) == 1,
        f"expected one {status} bundle",
        expected=1,
        observed=shortlist(found),
        severity=CRITICAL,
    )
    return found[0]["bundle_id"]


@check("security.auth.query_shows_only_own", requirements=["SEC-004"], profile=SECURITY)
def query_shows_only_own(s: Session) -> None:
    """Bob's query, whoever it names as the one asking, shows bob's bundles and no one else's.

    Alice transfers 100 Wh to bob first, so bob has something to see: his own
    query must show it (else the check proves nothing), and no query made with
    his token may show a bundle of another account.
    """
    raw = raw_access(s)
    w, bundle, _ = holder_world(s)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=100)
    bobs = {b["bundle_id"] for b in s.bundles(account_id=w.account(w.bob))}
    route = raw.mapping.actions["query"]
    bob = raw.bearer(w.bob)
    for named in (w.bob, w.alice, ISSUER_ID):
        request = raw.request("query", named).evolve(authorization=bob, credential="bob's token")
        response = send(s, raw, request, "bob's bundles only")
        if named == w.bob:
            s.expect(
                response.accepted,
                "bob's own query must be answered",
                expected="HTTP 2xx",
                observed=f"HTTP {response.status}: {response.message}",
            )
        if not response.accepted:
            continue
        body = response.body if isinstance(response.body, Mapping) else {}
        shown = raw.mapping.decode_result(route, body).get("bundles")
        if not isinstance(shown, list):
            raise CheckFailed(
                "a query answer must list bundles",
                expected="a list of bundles",
                observed=shorten(response.body),
            )
        ids = {b.get("bundle_id") for b in shown if isinstance(b, Mapping)}
        foreign = sorted(map(str, ids - bobs))
        s.expect(
            not foreign,
            f"bob's token, naming {named} as the one asking, was shown other accounts' bundles",
            expected=f"only bob's bundles {sorted(map(str, bobs))}",
            observed=f"also {foreign}",
            severity=CRITICAL,
        )
        if named == w.bob:
            s.expect(
                ids == bobs,
                "bob's own query must show his bundles (else this check proves nothing)",
                expected=sorted(map(str, bobs)),
                observed=sorted(map(str, ids)),
            )


@check("security.auth.issuer_powers_need_the_issuer", requirements=["SEC-005"], profile=SECURITY)
def issuer_powers_need_the_issuer(s: Session) -> None:
    """With a holder's token, nobody issues, opens accounts, resets, exports or mints credentials.

    Alice's token is used for an issuance and an account opening (naming
    herself, then the GC Issuer, as the acting party) and for each admin route
    the mapping names. Every request must be refused and change nothing; the
    admin reads must not leak the state or history.
    """
    raw = raw_access(s)
    w, _, _ = holder_world(s)
    alice = raw.bearer(w.alice)
    account = {"account_id": "ACC-MALLORY", "holder_id": w.alice, "account_name": "mallory"}
    before = s.snapshot()
    for named in (w.alice, ISSUER_ID):
        for request, what in (
            (issuance_request(s, raw, named, 4), "an issuance"),
            (raw.request("open_account", named, account=account), "an account opening"),
        ):
            refused(
                s,
                raw,
                request.evolve(authorization=alice, credential="alice's token"),
                f"{what} with alice's token, naming {named} as the actor",
                before=before,
            )
    admin_bodies: dict[str, Any] = {
        "reset": {"issuer": {"issuer_id": w.alice, "name": "Mallory", "domain": "NL"}},
        "state": None,
        "history": None,
        "token": {raw.mapping.token_party_field: ISSUER_ID},
    }
    for name, body in admin_bodies.items():
        if name not in raw.mapping.admin or not raw.mapping.admin[name].probed:
            continue  # a route added only for testing (or public by design) is not probed
        request = raw.admin_request(name, body).evolve(
            authorization=alice, credential="alice's token", as_party=w.alice
        )
        refused(
            s,
            raw,
            request,
            f"the admin route {name} with alice's token",
            statuses=(401, 403),
            before=before,
        )
