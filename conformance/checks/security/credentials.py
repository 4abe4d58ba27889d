"""Credentials (SEC-001, SEC-002): none, forged, malformed or expired credentials get
401/403 and change nothing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gc_conformance.checks import check
from gc_conformance.checks.core import CONSUMER
from gc_conformance.session import (
    ISSUER_ID,
    AdapterError,
    NotApplicable,
    Session,
)

if TYPE_CHECKING:
    from gc_conformance.adapters.http_raw import RawHttp, RawRequest

from gc_conformance.checks.security.plumbing import (
    SECURITY,
    SHORT_LIFETIME_S,
    holder_world,
    issuance_request,
    raw_access,
    refused,
    send,
)


@check("security.auth.credentials_required", requirements=["SEC-001"], profile=SECURITY)
def credentials_required(s: Session) -> None:
    """No credential, a forged one or a malformed Authorization header gets 401 on EVERY route.

    Every route the mapping defines — each action and each admin route, except
    those it declares ``public`` (needing no credential by design) or
    ``test_only`` (added by the vendor for testing) — is sent with each bad
    credential. Alice's transfer, cancellation and query of her own bundle and
    an issuance are sent well-formed (so that only the credential is wrong);
    the other routes with the body the adapter sends for no fields. Every one
    must be refused with 401 — no or an invalid credential (RFC 6750 section
    3.1); 403 means an authenticated party that may not act, which these are
    not — and leave the state as it was. A registry that falls back to a
    default party, or decides from the body's ``source_id`` when the token is
    missing, fails here.
    """
    raw = raw_access(s)
    w, bundle, _ = holder_world(s)
    alice = raw.bearer(w.alice)
    bad = {
        "no credential": None,
        "a forged bearer token": "Bearer " + "f0rged" * 7,
        "a scheme without a token": "Bearer",
        "another scheme (Basic)": "Basic YWxpY2U6YWxpY2U=",
        "alice's token with a character added": alice + "x",
        "alice's token without its scheme": alice.removeprefix("Bearer "),
    }
    to_bob = w.account(w.bob)
    actions = raw.mapping.actions
    well_formed: dict[str, RawRequest] = {}
    if "transfer" in actions:
        well_formed["actions.transfer"] = raw.request(
            "transfer", w.alice, bundle_id=bundle, to_account=to_bob, quantity=10
        )
    if "cancel" in actions:
        well_formed["actions.cancel"] = raw.request(
            "cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER, quantity=10
        )
    if "query" in actions:
        well_formed["actions.query"] = raw.request("query", w.alice)
    issuance = issuance_request(s, raw, ISSUER_ID, 3)
    style = "submit_production" if issuance.path == _path_of(raw, "submit_production") else ""
    well_formed[f"actions.{style or 'issue_bundle'}"] = issuance
    probed = raw.probed_routes()
    requests = [well_formed[name] for name, _ in probed if name in well_formed]
    requests += [raw.route_request(r, w.alice) for name, r in probed if name not in well_formed]
    before = s.snapshot()
    for label, header in bad.items():
        for request in requests:
            hostile = request.evolve(authorization=header, credential=label)
            refused(
                s,
                raw,
                hostile,
                f"{request.method} {request.path} with {label}",
                statuses=(401,),
                before=before,
            )


def _path_of(raw: RawHttp, action: str) -> str | None:
    route = raw.mapping.actions.get(action)
    return route.path if route is not None else None


@check("security.auth.expired_credential_refused", requirements=["SEC-002"], profile=SECURITY)
def expired_credential_refused(s: Session) -> None:
    """A credential that has expired is refused (401/403) and changes nothing.

    The suite asks the registry's token route for a credential of alice's that
    lives one second, shows that it works (a query), waits until it has
    expired, and then uses it to transfer her bundle and to query.
    """
    raw = raw_access(s)
    if not raw.can_mint:
        raise NotApplicable("the mapping has no token route: no short-lived credential to test")
    w, bundle, _ = holder_world(s)
    try:
        token = raw.mint(w.alice, SHORT_LIFETIME_S)
    except Exception as exc:
        raise AdapterError(len(s.steps), f"minting a short-lived token failed: {exc}") from exc
    header = f"Bearer {token}"
    query = raw.request("query", w.alice).evolve(
        authorization=header, credential="alice's token, fresh"
    )
    fresh = send(s, raw, query, "accept")
    s.expect(
        fresh.accepted,
        "a freshly minted credential must work before it expires (else expiry cannot be told "
        "apart from a credential that never worked)",
        expected="HTTP 2xx",
        observed=f"HTTP {fresh.status}: {fresh.message}",
    )
    time.sleep(SHORT_LIFETIME_S + 0.5)  # waiting for the expiry, not measuring anything
    stale = "alice's token, expired"
    transfer = raw.request(
        "transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=10
    )
    for request in (transfer, query):
        refused(
            s,
            raw,
            request.evolve(authorization=header, credential=stale),
            f"{request.method} {request.path} with an expired credential",
            statuses=(401,),
        )
