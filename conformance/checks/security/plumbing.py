"""The security checks' plumbing: raw HTTP access, hand-made requests recorded as steps,
refusals judged from the answer and the state, and the cast of parties they use."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gc_conformance.adapter import IssuanceStyle, Profile
from gc_conformance.checks.core import CRITICAL, WIND, alice_issues
from gc_conformance.outcomes import Step
from gc_conformance.session import (
    AdapterError,
    CheckFailed,
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
NO_VERDICT = frozenset({408, 429})  # the registry did not decide


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
    if outcome.status >= 500 or outcome.status in NO_VERDICT:
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
            observed=f"HTTP {response.status}: {shorten(response.body)}",
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


def shorten(body: object) -> str:
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


def held(state: Mapping[str, Any], account: str, status: str = "ACTIVE") -> int:
    return sum(
        b["bundle_quantity"]
        for b in state["bundles"]
        if b["account_id"] == account and b["certificate_bundle_status"] == status
    )
