"""Security and robustness checks (profile ``security``): hand-made requests over real HTTP.

The rest of the suite speaks the contract, which only ever sends well-formed
requests with the credential of the party they name. An attacker does not:
these checks send what the contract cannot express, through the adapter's
``raw_http()`` capability (:class:`~gc_conformance.adapters.http_raw.RawHttp`),
and judge what the registry did from its answer *and* from its observed state:

* **credentials** (SEC-001, SEC-002): none, forged, malformed or expired
  credentials get 401/403 and change nothing;
* **authority** (SEC-003 - SEC-005): a holder's own token with another party
  named in the body (the API's ``source_id``) must not act as that party; a
  holder reads only their own bundles; issuance and admin routes need the
  GC Issuer;
* **hostile input** (SEC-006, SEC-007): wrong types, impossible quantities,
  energies and timestamps, unknown fields, malformed JSON and oversized bodies
  get a 4xx and change nothing. SEC-006 is fuzzed with Hypothesis, seeded from
  the run's seed and as deep as its ``--max-examples``;
* **replay** (SEC-008, SEC-009): a write repeated with its idempotency key acts
  once; the same production data never issues twice, even sent many times at
  once;
* **concurrency** (SEC-010, SEC-011): many transfers or cancellations of one
  bundle released at the same instant move or use each certificate at most
  once; the observed state is checked for conservation, and the registry's own
  history (when it exposes one) is run through the reference invariant checker.

A 5xx, a 408/429 or a connection failure is an *error* of the registry (no
verdict), never a pass. Steps record each hand-made request as action
``http`` with its credential, and carry the exchange and a ``curl`` command
that repeats it; such steps cannot be replayed by ``gc-conformance replay``
(the ``curl`` command is their reproduction).
"""

from __future__ import annotations

import itertools
import json
import string
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st

from gc_conformance.adapter import IssuanceStyle, Profile
from gc_conformance.checks import check
from gc_conformance.checks.core import CONSUMER, CRITICAL, WIND, alice_issues, shortlist
from gc_conformance.outcomes import Severity, Step
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.session import (
    ISSUER_ID,
    AdapterError,
    CheckFailed,
    ConservationBroken,
    NotApplicable,
    Session,
    World,
    stamp,
)

if TYPE_CHECKING:
    from gc_conformance.adapters.http_raw import RawHttp, RawRequest, RawResponse

SECURITY = Profile.SECURITY

#: How many requests a concurrency check releases at the same instant.
PARALLEL = 8
#: The lifetime asked for a credential that must then expire (seconds; some APIs take whole ones).
SHORT_LIFETIME_S = 1
#: The body size treated as hostile when the mapping declares no limit (policy, docs/http.md).
DEFAULT_HOSTILE_BODY_BYTES = 8 * 1024 * 1024
_NO_VERDICT = frozenset({408, 429})  # the registry did not decide


# ====================================================================== plumbing


def raw_access(s: Session) -> RawHttp:
    """The adapter's raw HTTP capability; the check is not applicable without it."""
    factory = getattr(s.adapter, "raw_http", None)
    if not callable(factory):
        raise NotApplicable(
            "the adapter offers no raw HTTP access (raw_http()); the security checks send "
            "hand-made requests over the wire (use the http:// adapter)"
        )
    raw: RawHttp = factory()
    return raw


def _request_plain(s: Session, request: RawRequest) -> dict[str, Any]:
    payload = request.payload()
    preview = payload[:300].decode(errors="replace")
    if len(payload) > 300:
        preview += f"... ({len(payload)} bytes)"
    return {
        "action": "http",
        "actor": request.as_party or "(anonymous)",
        "now": stamp(s.now),
        "method": request.method,
        "path": request.path,
        "credential": request.credential,
        "body": preview,
    }


def _answer_plain(response: RawResponse) -> dict[str, Any]:
    plain: dict[str, Any] = {"accepted": response.accepted, "code": response.code}
    plain["message"] = f"HTTP {response.status}" if response.accepted else response.message
    if response.accepted and isinstance(response.body, Mapping):
        plain["result"] = dict(response.body)
    return plain


def _record(
    s: Session, raw_request: RawRequest, outcome: RawResponse | Exception, expectation: str
) -> RawResponse:
    """Append ``outcome`` as a step; a failure to answer is an adapter error (no verdict)."""
    number = len(s.steps) + 1
    plain = _request_plain(s, raw_request)
    if isinstance(outcome, Exception):
        detail = f"{type(outcome).__name__}: {outcome}"
        s.steps.append(Step(number, plain, None, expectation, detail))
        raise AdapterError(number, detail)
    s.steps.append(
        Step(number, plain, _answer_plain(outcome), expectation, exchanges=(outcome.exchange,))
    )
    if outcome.status >= 500 or outcome.status in _NO_VERDICT:
        raise AdapterError(
            number,
            f"{raw_request.method} {raw_request.path} answered {outcome.status} "
            f"({outcome.message}); reproduce: {outcome.exchange.get('curl')}",
        )
    return outcome


def send(s: Session, raw: RawHttp, request: RawRequest, expectation: str = "any") -> RawResponse:
    """Send one hand-made request and record it as a step (no verdict here)."""
    try:
        outcome: RawResponse | Exception = raw.send(request, now=stamp(s.now))
    except Exception as exc:
        outcome = exc
    return _record(s, request, outcome, expectation)


def send_parallel(
    s: Session, raw: RawHttp, requests: Sequence[RawRequest], expectation: str
) -> list[RawResponse]:
    """Release ``requests`` at once; every one becomes a step, in the order they were built."""
    outcomes = raw.parallel(requests, now=stamp(s.now))
    failure: AdapterError | None = None
    answers: list[RawResponse] = []
    for request, outcome in zip(requests, outcomes, strict=True):
        try:
            answers.append(_record(s, request, outcome, expectation))
        except AdapterError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return answers


def refused(
    s: Session,
    raw: RawHttp,
    request: RawRequest,
    what: str,
    *,
    statuses: Iterable[int] = range(400, 500),
    before: tuple[Any, ...] | None = None,
) -> RawResponse:
    """``request`` must be refused with one of ``statuses`` and change nothing."""
    allowed = frozenset(statuses)
    shown = {frozenset({401, 403}): "401 or 403", frozenset({401}): "401"}.get(allowed, "a 4xx")
    baseline = s.snapshot() if before is None else before
    response = send(s, raw, request, f"reject {shown}")
    if response.accepted:
        raise CheckFailed(
            f"{what} was accepted",
            expected=f"refused with {shown}, nothing changed",
            observed=f"HTTP {response.status}: {_short(response.body)}",
            severity=CRITICAL,
        )
    if response.status not in allowed:
        raise CheckFailed(
            f"{what} was not refused as "
            + (
                "an unauthenticated request" if allowed == {401} else "unauthenticated or forbidden"
            ),
            expected=f"HTTP {shown}",
            observed=f"HTTP {response.status}: {response.message}",
        )
    s.require_unchanged(baseline, f"{what}, refused with HTTP {response.status},")
    return response


def _short(body: object) -> str:
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    return text if len(text) <= 300 else text[:300] + "..."


def holder_world(s: Session) -> tuple[World, Any, dict[str, Any]]:
    """The standard cast, with 1000 Wh issued into alice's account."""
    w = s.world()
    bundle, record = alice_issues(s, w)
    return w, bundle, record


def issuance_request(
    s: Session, raw: RawHttp, actor: str, hour: int, *, wh: int = 1000, credential: str = ""
) -> RawRequest:
    """An issuance for one hour of the wind park, in the registry's own style, as ``actor``."""
    start, end = s.hour(hour)
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        fields: dict[str, Any] = {
            "device_id": WIND,
            "meter_id": "M-WIND",
            "start": start,
            "end": end,
            "energy_wh": str(wh),
        }
        return raw.request("submit_production", actor, credential=credential, **fields)
    first = s.next_free_certificate() + 10_000 * hour  # clear of earlier issued ranges
    fields = {
        "device_id": WIND,
        "account_id": "ACC-ALICE",
        "start": start,
        "end": end,
        "range_start": first,
        "range_end": first + wh - 1,
        "quantity": wh,
        "energy_wh": str(wh),
    }
    return raw.request("issue_bundle", actor, credential=credential, **fields)


# ====================================================================== credentials


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


# ====================================================================== authority


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
                observed=_short(response.body),
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


# ====================================================================== hostile input


@attrs.frozen
class Hostile:
    """One generated hostile request and what makes it hostile (shown in the step)."""

    what: str
    request: RawRequest


def _scalars_and_containers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        st.lists(st.integers(-5, 5), max_size=3),
        st.dictionaries(st.sampled_from(["a", "id", "$gt"]), st.integers(0, 9), max_size=2),
    )


_NAME = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)


def _bad_ids() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(max_value=-1),
        st.integers(min_value=10**12, max_value=10**30),
        _NAME.map(lambda t: "no-such-bundle-" + t),
        st.sampled_from(["", " ", "1 OR 1=1", "../1", "1; DROP TABLE bundles"]),
        st.floats(0.5, 1e6).filter(lambda f: f != int(f)),
        _scalars_and_containers(),
    )


def _bad_accounts() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(),
        st.sampled_from(["", " ", "ACC-NOBODY", "x" * 5000, "ACC-BOB\u0000", "acc-bob"]),
        _scalars_and_containers(),
    )


def _bad_quantities(available: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=available + 1, max_value=10**30),
        st.just(2**63),
        st.just(2**64 + 1),
        st.floats(0.01, available - 0.01).filter(lambda f: f != int(f)),
        st.sampled_from(["ten", "", "1e3", "0x10", "-5"]),
        _scalars_and_containers(),
    )


def _bad_energies() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(max_value=-1),
        st.integers(max_value=-1).map(str),
        st.integers(min_value=10**13, max_value=10**40).map(str),  # far beyond a 5 MW hour
        st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "abc", "", "1,000", "0x3e8"]),
        _scalars_and_containers(),
    )


def _bad_stamps() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(),
        st.sampled_from(
            [
                "",
                "yesterday",
                "2024-13-01T00:00:00Z",
                "2024-02-30T10:00:00Z",
                "2024-03-01T25:00:00Z",
                "2024-03-01T10:61:00Z",
                "2024-03-01",
                "not-a-date-2024-03-01T00:00:00Z",
            ]
        ),
        _scalars_and_containers(),
    )


def _unknown_fields(known: Iterable[str]) -> st.SearchStrategy[tuple[str, Any]]:
    taken = set(known)
    name = _NAME.map(lambda t: "x_" + t).filter(lambda n: n not in taken)
    value = st.one_of(st.none(), st.integers(), _NAME, _scalars_and_containers())
    return st.tuples(name, value)


_RAW_BODIES: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"{certificate_bundle_id: 1", "application/json"),
    "a JSON array": (b"[1, 2, 3]", "application/json"),
    "a JSON string": (b'"transfer everything"', "application/json"),
    "JSON null": (b"null", "application/json"),
    "a NaN literal": (b'{"certificate_quantity": NaN}', "application/json"),
    "invalid UTF-8": (b'{"target_id": "\xff\xfe"}', "application/json"),
    "deep nesting": (b"[" * 20_000 + b"]" * 20_000, "application/json"),
    "a 5000-digit number": (b'{"certificate_quantity": ' + b"9" * 5000 + b"}", "application/json"),
    "a form, not JSON": (b"certificate_bundle_id=1&target_id=ACC-BOB", "x-www-form-urlencoded"),
}


def hostile_requests(s: Session, raw: RawHttp, w: World, bundle: Any) -> st.SearchStrategy[Hostile]:
    """Requests a registry must refuse: each valid request with one hostile change."""
    base = {"bundle_id": bundle, "to_account": w.account(w.bob), "quantity": 100}

    def transfer(what: str, fields: Mapping[str, Any]) -> Hostile:
        return Hostile(what, raw.request("transfer", w.alice, **fields))

    field_changes = st.one_of(
        _bad_ids().map(lambda v: ("bundle_id", v)),
        _bad_accounts().map(lambda v: ("to_account", v)),
        _bad_quantities(1000).map(lambda v: ("quantity", v)),
    ).map(lambda kv: transfer(f"transfer with {kv[0]}={kv[1]!r:.80}", {**base, kv[0]: kv[1]}))
    missing = st.sampled_from(["bundle_id", "to_account"]).map(
        lambda k: transfer(f"transfer without {k}", {f: v for f, v in base.items() if f != k})
    )
    valid_transfer = raw.request("transfer", w.alice, **base)
    unknown = _unknown_fields(valid_transfer.body).map(
        lambda kv: Hostile(
            f"transfer with an unknown field {kv[0]}",
            valid_transfer.evolve(body={**valid_transfer.body, kv[0]: kv[1]}),
        )
    )
    raw_bodies = st.sampled_from(sorted(_RAW_BODIES)).map(
        lambda name: Hostile(
            f"transfer whose body is {name}",
            valid_transfer.evolve(
                content=_RAW_BODIES[name][0], headers={"Content-Type": _RAW_BODIES[name][1]}
            ),
        )
    )
    production = production_changes(s, raw)
    choices = [field_changes, missing, unknown, raw_bodies, production]
    header = raw.mapping.clock_header
    if header and s.capabilities.clock.value == "controlled":
        clock = st.sampled_from(
            ["yesterday", "2024-02-30T00:00:00Z", "2024-03-02T00:00:00", "0", "2024-03-02"]
        ).map(
            lambda v: Hostile(
                f"transfer at the instant {v!r} ({header})",
                valid_transfer.evolve(headers={header: v}),
            )
        )
        choices.append(clock)
    return st.one_of(*choices)


def production_changes(s: Session, raw: RawHttp) -> st.SearchStrategy[Hostile]:
    """Issuances by the GC Issuer with one hostile field (hour 5: nothing issued there yet)."""
    start, end = s.hour(5)
    two_hours_later = s.hour(6)[1]
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        action, energy = "submit_production", "energy_wh"
        base: dict[str, Any] = {
            "device_id": WIND,
            "meter_id": "M-WIND",
            "start": start,
            "end": end,
            "energy_wh": "1000",
        }
    else:
        action, energy = "issue_bundle", "quantity"
        base = {
            "device_id": WIND,
            "account_id": "ACC-ALICE",
            "start": start,
            "end": end,
            "range_start": 10**6,
            "range_end": 10**6 + 999,
            "quantity": 1000,
            "energy_wh": "1000",
        }

    def issue(what: str, fields: Mapping[str, Any]) -> Hostile:
        return Hostile(what, raw.request(action, ISSUER_ID, **fields))

    changes = st.one_of(
        (_bad_energies() if energy == "energy_wh" else _bad_quantities(10**9)).map(
            lambda v: (energy, v)
        ),
        _bad_stamps().map(lambda v: ("start", v)),
        _bad_stamps().map(lambda v: ("end", v)),
        _bad_ids().map(lambda v: ("device_id", v)),
        st.just(("start", end)),  # a zero-length interval
        st.just(("end", two_hours_later)),  # two hours: a GC covers an hour or less
    )
    swapped = st.just(
        issue(f"{action} with start and end swapped", {**base, "start": end, "end": start})
    )
    return st.one_of(
        changes.map(
            lambda kv: issue(f"{action} with {kv[0]}={kv[1]!r:.80}", {**base, kv[0]: kv[1]})
        ),
        swapped,
    )


def classic_hostile_requests(s: Session, raw: RawHttp, w: World, bundle: Any) -> list[Hostile]:
    """The well-known hostile requests, always sent before the generated ones."""
    base = {"bundle_id": bundle, "to_account": w.account(w.bob), "quantity": 100}
    changes: list[tuple[str, Any]] = [
        ("quantity", -1),
        ("quantity", 0),
        ("quantity", 10**30),
        ("quantity", True),
        ("quantity", 1.5),
        ("quantity", "100"),
        ("bundle_id", None),
        ("bundle_id", -1),
        ("bundle_id", True),
        ("bundle_id", "1 OR 1=1"),
        ("to_account", None),
        ("to_account", ""),
        ("to_account", ["ACC-BOB"]),
    ]
    found = [
        Hostile(f"transfer with {k}={v!r}", raw.request("transfer", w.alice, **{**base, k: v}))
        for k, v in changes
    ]
    valid = raw.request("transfer", w.alice, **base)
    found.append(
        Hostile(
            "transfer without bundle_id",
            raw.request("transfer", w.alice, **{k: v for k, v in base.items() if k != "bundle_id"}),
        )
    )
    found.append(
        Hostile(
            "transfer with an unknown field", valid.evolve(body={**valid.body, "x_admin": True})
        )
    )
    for name, (content, kind) in sorted(_RAW_BODIES.items()):
        found.append(
            Hostile(
                f"transfer whose body is {name}",
                valid.evolve(content=content, headers={"Content-Type": kind}),
            )
        )
    start, end = s.hour(5)
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        issue = {"device_id": WIND, "meter_id": "M-WIND", "start": start, "end": end}
        for what, fields in (
            ("a negative energy", {**issue, "energy_wh": "-1000"}),
            ("energy NaN", {**issue, "energy_wh": "NaN"}),
            ("a huge energy", {**issue, "energy_wh": "9" * 40}),
            ("start and end swapped", {**issue, "start": end, "end": start, "energy_wh": "1"}),
            ("an impossible date", {**issue, "start": "2024-02-30T05:00:00Z", "energy_wh": "1"}),
            ("a two-hour interval", {**issue, "end": s.hour(6)[1], "energy_wh": "1"}),
        ):
            request = raw.request("submit_production", ISSUER_ID, **fields)
            found.append(Hostile(f"submit_production with {what}", request))
    return found


@check(
    "security.input.hostile_requests_refused",
    requirements=["SEC-006"],
    profile=SECURITY,
    slow=True,
)
def hostile_requests_refused(s: Session) -> None:
    """Fuzzed hostile requests (types, quantities, energies, stamps, fields, bodies) get a 4xx.

    Hypothesis generates requests, each a valid transfer by alice or a valid
    issuance by the GC Issuer with one hostile change, or a body that is not a
    JSON object at all; seeded from the run's seed, ``--max-examples`` of them.
    Every one must be refused with a 4xx and leave the observed state as it
    was. A 5xx is an error of the registry (no verdict). The first offending
    request ends the check; it is the last step.
    """
    raw = raw_access(s)
    w, bundle, _ = holder_world(s)
    strategy = hostile_requests(s, raw, w, bundle)
    baseline = s.snapshot()
    problems: list[Exception] = []

    def probe(hostile: Hostile) -> None:
        if problems:
            return
        try:
            response = send(s, raw, hostile.request, f"reject 4xx: {hostile.what}")
            if not response.refused:
                raise CheckFailed(
                    f"a hostile request was not refused: {hostile.what}",
                    expected="a 4xx, nothing changed",
                    observed=f"HTTP {response.status}: {_short(response.body)}",
                    severity=CRITICAL if response.accepted else Severity.MAJOR,
                )
            after = s.snapshot()
            if after != baseline:
                raise CheckFailed(
                    f"a hostile request was refused (HTTP {response.status}) but changed the "
                    f"state: {hostile.what}",
                    expected="state unchanged",
                    observed=f"bundles removed {sorted(set(baseline[1]) - set(after[1]))}; "
                    f"added {sorted(set(after[1]) - set(baseline[1]))}",
                    severity=CRITICAL,
                )
        except (CheckFailed, AdapterError) as exc:
            problems.append(exc)

    settings = hypothesis.settings(
        max_examples=s.max_examples,
        derandomize=False,  # the seed decides
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        phases=[Phase.explicit, Phase.generate],  # each request stands alone: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    run = settings(hypothesis.given(strategy)(probe))
    for hostile in classic_hostile_requests(s, raw, w, bundle):
        run = hypothesis.example(hostile)(run)
    hypothesis.seed(s.seed)(run)()
    if problems:
        raise problems[0]


@check("security.input.oversized_body_refused", requirements=["SEC-007"], profile=SECURITY)
def oversized_body_refused(s: Session) -> None:
    """A valid transfer padded past the registry's body limit is refused, and acts on nothing.

    The body is alice's own, valid transfer of 100 Wh, with whitespace (legal
    JSON) added until it is one byte over the limit the mapping declares
    (``limits.max_body_bytes``; else 8 MiB). It must be refused with a 4xx
    (413 expected) and change nothing. The same transfer, unpadded, must then
    be accepted: that shows the refusal was about the size.
    """
    raw = raw_access(s)
    limit = raw.mapping.max_body_bytes or DEFAULT_HOSTILE_BODY_BYTES
    w, bundle, _ = holder_world(s)
    valid = raw.request(
        "transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=100
    )
    text = valid.payload()
    padded = text[:-1] + b" " * (limit + 1 - len(text) + 1) + text[-1:]
    response = send(s, raw, valid.evolve(content=padded), f"reject 4xx (over {limit} bytes)")
    if response.accepted:
        raise CheckFailed(
            f"a body of {len(padded)} bytes, over the limit of {limit}, was acted on",
            expected="HTTP 413 (a 4xx), nothing changed",
            observed=f"HTTP {response.status}: {_short(response.body)}",
        )
    s.expect(
        response.refused,
        "an oversized body must be refused with a 4xx",
        expected="HTTP 413",
        observed=f"HTTP {response.status}",
    )
    s.expect(
        s.balance(w.account(w.bob)) == 0,
        "the refused oversized transfer moved certificates",
        expected="bob holds 0 Wh",
        observed=f"bob holds {s.balance(w.account(w.bob))} Wh",
        severity=CRITICAL,
    )
    control = send(s, raw, valid, "accept")
    s.expect(
        control.accepted and s.balance(w.account(w.bob)) == 100,
        "the same transfer without the padding must be accepted (else the size proved nothing)",
        expected="HTTP 2xx, bob holds 100 Wh",
        observed=f"HTTP {control.status}: {control.message}",
    )


# ====================================================================== replay


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


# ====================================================================== concurrency


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


def held(state: Mapping[str, Any], account: str, status: str = "ACTIVE") -> int:
    return sum(
        b["bundle_quantity"]
        for b in state["bundles"]
        if b["account_id"] == account and b["certificate_bundle_status"] == status
    )


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
