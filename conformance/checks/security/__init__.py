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

from gc_conformance.checks.security.authority import (
    holder_cannot_act_on_others_bundles,
    issuer_powers_need_the_issuer,
    one_bundle,
    query_shows_only_own,
)
from gc_conformance.checks.security.concurrency import (
    accepted_at_most,
    conservation,
    invariants_hold,
    parallel_cancels_conserve,
    parallel_transfers_conserve,
)
from gc_conformance.checks.security.credentials import (
    credentials_required,
    expired_credential_refused,
)
from gc_conformance.checks.security.hostile_input import (
    Hostile,
    classic_hostile_requests,
    hostile_requests,
    hostile_requests_refused,
    oversized_body_refused,
    production_changes,
)
from gc_conformance.checks.security.plumbing import (
    DEFAULT_HOSTILE_BODY_BYTES,
    PARALLEL,
    SECURITY,
    SHORT_LIFETIME_S,
    held,
    holder_world,
    issuance_request,
    raw_access,
    refused,
    send,
    send_parallel,
)
from gc_conformance.checks.security.replay import (
    expect_issued_once,
    hour_total,
    idempotency_key_acts_once,
    production_reading_issued_once,
)

__all__ = [
    "DEFAULT_HOSTILE_BODY_BYTES",
    "PARALLEL",
    "SECURITY",
    "SHORT_LIFETIME_S",
    "Hostile",
    "accepted_at_most",
    "classic_hostile_requests",
    "conservation",
    "credentials_required",
    "expect_issued_once",
    "expired_credential_refused",
    "held",
    "holder_cannot_act_on_others_bundles",
    "holder_world",
    "hostile_requests",
    "hostile_requests_refused",
    "hour_total",
    "idempotency_key_acts_once",
    "invariants_hold",
    "issuance_request",
    "issuer_powers_need_the_issuer",
    "one_bundle",
    "oversized_body_refused",
    "parallel_cancels_conserve",
    "parallel_transfers_conserve",
    "production_changes",
    "production_reading_issued_once",
    "query_shows_only_own",
    "raw_access",
    "refused",
    "send",
    "send_parallel",
]
